"""A reference of osquery's core tables: which platforms have them and the columns they return.

It backs two things: the SQL check that runs before a query is saved or launched (a column that a
known table does not have is an error the agent would report anyway, only later and per host), and
the table reference shown beside the SQL editor. Tables from extensions are not listed; a query
that uses one is accepted with a warning.
"""

from typing import NamedTuple


class Table(NamedTuple):
    platforms: tuple[str, ...]
    columns: tuple[str, ...]
    description: str


ALL = ("darwin", "linux", "windows")
POSIX = ("darwin", "linux")
MAC = ("darwin",)
LINUX = ("linux",)
WIN = ("windows",)


def _t(platforms: tuple[str, ...], description: str, columns: str) -> Table:
    return Table(platforms, tuple(columns.split()), description)


TABLES: dict[str, Table] = {
    # Host identity and osquery itself.
    "system_info": _t(
        ALL,
        "Hardware identity: hostname, UUID, CPU, memory, vendor, model, serial.",
        "hostname uuid cpu_type cpu_subtype cpu_brand cpu_physical_cores cpu_logical_cores cpu_sockets "
        "cpu_microcode physical_memory hardware_vendor hardware_model hardware_version hardware_serial "
        "board_vendor board_model board_version board_serial computer_name local_hostname",
    ),
    "os_version": _t(
        ALL,
        "Operating system name, version numbers, build and architecture.",
        "name version major minor patch build platform platform_like codename arch extra install_date "
        "revision pid_with_namespace mount_namespace_id",
    ),
    "osquery_info": _t(
        ALL,
        "The running osquery agent: version, config hash, start time.",
        "pid uuid instance_id version config_hash config_valid extensions build_platform build_distro "
        "start_time watcher platform_mask",
    ),
    "osquery_schedule": _t(
        ALL,
        "Each scheduled query's run count, cost and denylist state.",
        "name query interval executions last_executed denylisted output_size wall_time wall_time_ms "
        "last_wall_time_ms user_time last_user_time system_time last_system_time average_memory last_memory",
    ),
    "osquery_packs": _t(
        ALL,
        "Packs the agent has loaded and their discovery statistics.",
        "name platform version shard discovery_cache_hits discovery_executions active",
    ),
    "osquery_flags": _t(
        ALL,
        "The agent's command-line flags and their values.",
        "name type description default_value value shell_only",
    ),
    "osquery_extensions": _t(ALL, "Extensions attached to the agent.", "uuid name version sdk_version path type"),
    "osquery_registry": _t(
        ALL, "Plugins registered in the agent (tables, loggers, config).", "registry name owner_uuid internal active"
    ),
    "osquery_events": _t(
        ALL,
        "Event publishers and subscribers and their counters.",
        "name publisher type subscriptions events refreshes active",
    ),
    "time": _t(
        ALL,
        "The current date and time on the host.",
        "weekday year month day hour minutes seconds timezone local_timezone unix_time timestamp datetime "
        "iso_8601 win_timestamp",
    ),
    "uptime": _t(ALL, "Time since the host booted.", "days hours minutes seconds total_seconds"),
    "platform_info": _t(
        ALL,
        "Firmware (EFI/UEFI/BIOS/iBoot) details.",
        "vendor version date revision extra firmware_type address size volume_size",
    ),
    # Processes and network.
    "processes": _t(
        ALL,
        "Processes running now, with command line, owner and resource use.",
        "pid name path cmdline state cwd root uid gid euid egid suid sgid on_disk wired_size resident_size "
        "total_size user_time system_time disk_bytes_read disk_bytes_written start_time parent pgroup threads "
        "nice elevated_token secure_process protection_type virtual_process elapsed_time handle_count "
        "percent_processor_time upid uppid cpu_type cpu_subtype translated cgroup_path phys_footprint",
    ),
    "process_open_sockets": _t(
        ALL,
        "Network sockets held open by processes.",
        "pid fd socket family protocol local_address remote_address local_port remote_port path state net_namespace",
    ),
    "process_open_files": _t(POSIX, "Files held open by processes.", "pid fd path"),
    "process_envs": _t(POSIX, "Environment variables of running processes.", "pid key value"),
    "process_events": _t(
        POSIX,
        "Process launches recorded by the event framework (evented).",
        "pid path mode cmdline cmdline_size env env_count env_size cwd auid uid euid gid egid owner_uid "
        "owner_gid atime mtime ctime btime overflows parent time uptime status fsuid suid fsgid sgid syscall eid",
    ),
    "socket_events": _t(
        POSIX,
        "Socket connects and binds recorded by the event framework (evented).",
        "action pid path fd auid success family protocol local_address remote_address local_port remote_port "
        "socket time uptime eid status",
    ),
    "listening_ports": _t(
        ALL,
        "Ports processes listen on.",
        "pid port protocol family address fd socket path net_namespace",
    ),
    "interface_addresses": _t(
        ALL,
        "IP addresses of each network interface.",
        "interface address mask broadcast point_to_point type friendly_name",
    ),
    "interface_details": _t(
        ALL,
        "Network interfaces with MAC, MTU, traffic and error counters.",
        "interface mac type mtu metric flags ipackets opackets ibytes obytes ierrors oerrors idrops odrops "
        "collisions last_change link_speed pci_slot friendly_name description manufacturer connection_id "
        "connection_status enabled physical_adapter speed service dhcp_enabled dhcp_lease_expires "
        "dhcp_lease_obtained dhcp_server dns_domain dns_domain_suffix_search_order dns_host_name "
        "dns_server_search_order",
    ),
    "routes": _t(
        ALL,
        "The routing table.",
        "destination netmask gateway source flags interface mtu metric type hopcount",
    ),
    "arp_cache": _t(ALL, "ARP/NDP neighbour cache.", "address mac interface permanent"),
    "etc_hosts": _t(ALL, "Entries of the hosts file.", "address hostnames pid_with_namespace"),
    "dns_resolvers": _t(
        POSIX, "DNS resolvers the host is configured with.", "id type address netmask options pid_with_namespace"
    ),
    "curl": _t(
        ALL,
        "Makes an HTTP request from the host and reports the result (needs a url).",
        "url method user_agent response_code round_trip_time bytes result",
    ),
    "iptables": _t(
        LINUX,
        "Linux packet filter rules with counters.",
        "filter_name chain policy target protocol src_port dst_port src_ip src_mask iniface iniface_mask dst_ip "
        "dst_mask outiface outiface_mask match packets bytes",
    ),
    # Users and sessions.
    "users": _t(
        ALL,
        "Local user accounts (and domain accounts that logged in, on Windows).",
        # email: ChromeOS hosts report it through fleetd.
        "uid gid uid_signed gid_signed username description directory shell uuid type is_hidden "
        "pid_with_namespace email",
    ),
    "groups": _t(ALL, "Local groups.", "gid gid_signed groupname group_sid comment is_hidden"),
    "user_groups": _t(ALL, "Which local users belong to which groups.", "uid gid"),
    "logged_in_users": _t(ALL, "Users with an active session.", "type user tty host time pid sid registry_hive"),
    "last": _t(POSIX, "Login and logout history.", "username tty pid type type_name time host"),
    "shell_history": _t(POSIX, "Commands from users' shell history files.", "uid time command history_file"),
    "authorized_keys": _t(
        POSIX, "SSH public keys allowed to log in as each user.", "uid algorithm key options comment key_file"
    ),
    "known_hosts": _t(POSIX, "SSH host keys each user has trusted.", "uid key key_file"),
    "user_ssh_keys": _t(ALL, "Private SSH keys found in users' ~/.ssh.", "uid path encrypted key_type"),
    "ssh_configs": _t(ALL, "Parsed SSH client configuration.", "uid block option ssh_config_file"),
    "sudoers": _t(POSIX, "sudo rules.", "source header rule_details"),
    "account_policy_data": _t(
        MAC,
        "macOS account policy data: creation time, failed logins, password age.",
        "uid creation_time failed_login_count failed_login_timestamp password_last_set_time",
    ),
    # Files.
    "file": _t(
        ALL,
        "File metadata: owner, mode, size, times (needs a path or directory).",
        "path directory filename inode uid gid mode device size block_size atime mtime ctime btime hard_links "
        "symlink type attributes volume_serial file_id file_version product_version original_filename bsd_flags "
        "pid_with_namespace mount_namespace_id",
    ),
    "hash": _t(
        ALL,
        "MD5, SHA-1 and SHA-256 of files (needs a path or directory).",
        "path directory md5 sha1 sha256 ssdeep pid_with_namespace mount_namespace_id",
    ),
    "file_events": _t(
        POSIX,
        "Changes to monitored paths (evented, needs file_paths in the config).",
        "target_path category action transaction_id inode uid gid mode size atime mtime ctime md5 sha1 sha256 "
        "hashed time eid",
    ),
    "yara": _t(
        POSIX,
        "YARA rule matches against files (needs a path and rules).",
        "path matches count sig_group sigfile sigrule strings tags sigurl",
    ),
    "carves": _t(
        ALL,
        "File carves, finished and in progress.",
        "time sha256 size path status carve_guid request_id carve",
    ),
    "suid_bin": _t(POSIX, "setuid/setgid binaries in common directories.", "path username groupname permissions"),
    "mounts": _t(
        POSIX,
        "Mounted file systems with their capacity.",
        "device device_alias path type blocks_size blocks blocks_free blocks_available inodes inodes_free flags",
    ),
    "block_devices": _t(
        POSIX, "Block devices such as disks and partitions.", "name parent vendor model size block_size uuid type label"
    ),
    "disk_encryption": _t(
        POSIX,
        "Encryption state of each volume (FileVault, LUKS).",
        "name uuid encrypted type encryption_status uid user_uuid filevault_status",
    ),
    "plist": _t(MAC, "Keys and values of a property list file (needs a path).", "key subkey value parent path"),
    "augeas": _t(POSIX, "Configuration files parsed with Augeas lenses.", "node value label path"),
    # Software.
    "apps": _t(
        MAC,
        "Applications installed on macOS.",
        "name path bundle_executable bundle_identifier bundle_name bundle_short_version bundle_version "
        "bundle_package_type environment element compiler development_region display_name info_string "
        "minimum_system_version category applescript_enabled copyright last_opened_time",
    ),
    "deb_packages": _t(
        LINUX,
        "Installed Debian packages.",
        "name version source size arch revision status maintainer section priority admindir pid_with_namespace "
        "mount_namespace_id",
    ),
    "rpm_packages": _t(
        LINUX,
        "Installed RPM packages.",
        "name version release source size sha1 arch epoch install_time vendor package_group pid_with_namespace "
        "mount_namespace_id",
    ),
    "apt_sources": _t(
        LINUX,
        "Configured APT repositories.",
        "name source base_uri release version maintainer components architectures pid_with_namespace",
    ),
    "yum_sources": _t(
        LINUX,
        "Configured Yum repositories.",
        "name baseurl mirrorlist enabled gpgcheck gpgkey",
    ),
    "programs": _t(
        WIN,
        "Programs installed on Windows.",
        "name version install_location install_source language publisher uninstall_string install_date "
        "identifying_number",
    ),
    "chocolatey_packages": _t(WIN, "Installed Chocolatey packages.", "name version summary author license path"),
    "homebrew_packages": _t(
        MAC, "Installed Homebrew formulae and casks.", "name path version type auto_updated app_name prefix"
    ),
    "package_receipts": _t(
        MAC,
        "Installer package receipts on macOS.",
        "package_id package_filename version location install_time installer_name path",
    ),
    "python_packages": _t(
        ALL,
        "Installed Python packages.",
        "name version summary author license path directory pid_with_namespace",
    ),
    "npm_packages": _t(
        ALL,
        "Installed Node.js packages.",
        "name version description author license homepage path directory pid_with_namespace mount_namespace_id",
    ),
    "chrome_extensions": _t(
        ALL,
        "Extensions of Chrome and Chromium-based browsers.",
        "browser_type uid name profile profile_path referenced_identifier identifier version description "
        "default_locale current_locale update_url author persistent path permissions permissions_json "
        "optional_permissions optional_permissions_json manifest_hash referenced from_webstore state "
        "install_time install_timestamp manifest_json key",
    ),
    "firefox_addons": _t(
        ALL,
        "Firefox add-ons.",
        "uid name identifier creator type version description source_url visible active disabled autoupdate "
        "location path",
    ),
    "safari_extensions": _t(
        MAC,
        "Safari extensions.",
        "uid name identifier version sdk update_url author developer_id description path bundle_version "
        "copyright extension_type",
    ),
    "ie_extensions": _t(WIN, "Internet Explorer add-ons.", "name registry_path version path"),
    "vscode_extensions": _t(
        ALL,
        "Visual Studio Code extensions.",
        "name uuid version publisher publisher_id installed_at prerelease uid path vscode_edition",
    ),
    "docker_containers": _t(
        POSIX,
        "Docker containers and their settings.",
        "id name image image_id command created state status pid path config_entrypoint started_at finished_at "
        "privileged security_options env_variables readonly_rootfs cgroup_namespace ipc_namespace mnt_namespace "
        "net_namespace pid_namespace user_namespace uts_namespace",
    ),
    "docker_images": _t(POSIX, "Docker images.", "id created size_bytes tags"),
    "signature": _t(
        MAC,
        "Code-signing state of a binary or bundle (needs a path).",
        "path hash_resources arch signed identifier cdhash team_identifier authority",
    ),
    "certificates": _t(
        ALL,
        "Certificates in the system and user stores.",
        "common_name subject issuer ca self_signed not_valid_before not_valid_after signing_algorithm "
        "key_algorithm key_strength key_usage subject_key_id authority_key_id sha1 path serial sid "
        "store_location store username store_id",
    ),
    # Persistence and services.
    "crontab": _t(
        POSIX,
        "cron jobs.",
        "event minute hour day_of_month month day_of_week command path pid_with_namespace",
    ),
    "startup_items": _t(ALL, "Programs started at boot or login.", "name path args type source status username"),
    "launchd": _t(
        MAC,
        "launchd agents and daemons.",
        "path name label program run_at_load keep_alive on_demand disabled username groupname stdout_path "
        "stderr_path start_interval program_arguments watch_paths queue_directories inetd_compatibility "
        "start_on_mount root_directory working_directory process_type",
    ),
    "systemd_units": _t(
        LINUX,
        "systemd units and their state.",
        "id description load_state active_state sub_state following object_path job_id job_type job_path "
        "fragment_path user source_path",
    ),
    "services": _t(
        WIN,
        "Windows services.",
        "name service_type display_name status pid start_type win32_exit_code service_exit_code path "
        "module_path description user_account",
    ),
    "scheduled_tasks": _t(
        WIN,
        "Windows scheduled tasks.",
        "name action path enabled state hidden last_run_time next_run_time last_run_message last_run_code",
    ),
    "autoexec": _t(WIN, "Everything Windows runs automatically, from all the usual places.", "path name source"),
    "registry": _t(WIN, "Windows registry keys and values (needs a key or path).", "key path name type data mtime"),
    "drivers": _t(
        WIN,
        "Windows device drivers.",
        "device_id device_name image description service service_key version inf class provider manufacturer "
        "driver_key date signed",
    ),
    "patches": _t(
        WIN,
        "Windows updates (hotfixes) installed.",
        "csname hotfix_id caption description fix_comments installed_by install_date installed_on",
    ),
    "windows_optional_features": _t(
        WIN, "Windows optional features and whether they are on.", "name caption state statename"
    ),
    # Kernel and hardware.
    "kernel_info": _t(ALL, "The running kernel's version and boot arguments.", "version arguments path device"),
    "kernel_modules": _t(LINUX, "Linux kernel modules.", "name size used_by status address"),
    "kernel_extensions": _t(
        MAC,
        "macOS kernel extensions.",
        "idx refs size name version linked_against path",
    ),
    "system_controls": _t(
        POSIX,
        "sysctl values.",
        "name oid subsystem current_value config_value type field_name",
    ),
    "usb_devices": _t(
        POSIX,
        "USB devices plugged in.",
        "usb_address usb_port vendor vendor_id version model model_id serial class subclass protocol removable",
    ),
    "pci_devices": _t(
        POSIX,
        "PCI devices.",
        "pci_slot pci_class driver vendor vendor_id model model_id pci_class_id pci_subclass_id pci_subclass "
        "subsystem_vendor_id subsystem_vendor subsystem_model_id subsystem_model",
    ),
    "memory_info": _t(
        LINUX,
        "Memory and swap usage in bytes.",
        "memory_total memory_free memory_available buffers cached swap_cached active inactive swap_total swap_free",
    ),
    "load_average": _t(POSIX, "System load averages.", "period average"),
    "tpm_info": _t(
        WIN,
        "The TPM chip's state and vendor.",
        "activated enabled owned manufacturer_version manufacturer_id manufacturer_name product_name "
        "physical_presence_version spec_version",
    ),
    # Security posture.
    "sip_config": _t(MAC, "macOS System Integrity Protection settings.", "config_flag enabled enabled_nvram"),
    "gatekeeper": _t(MAC, "macOS Gatekeeper state.", "assessments_enabled dev_id_enabled version opaque_version"),
    "alf": _t(
        MAC,
        "macOS application firewall settings.",
        "allow_signed_enabled firewall_unload global_state logging_enabled logging_option stealth_enabled version",
    ),
    "sharing_preferences": _t(
        MAC,
        "macOS sharing services that are switched on.",
        "screen_sharing file_sharing printer_sharing remote_login remote_management remote_apple_events "
        "internet_sharing bluetooth_sharing disc_sharing content_caching",
    ),
    "screenlock": _t(MAC, "macOS screen lock settings for the logged-in user.", "enabled grace_period"),
    "managed_policies": _t(
        MAC, "Settings pushed by MDM or other management.", "domain uuid name value username manual"
    ),
    "preferences": _t(
        MAC, "macOS preference domains and their values.", "domain key subkey value forced username host"
    ),
    "secureboot": _t(("linux", "windows"), "UEFI Secure Boot state.", "secure_boot secure_mode setup_mode"),
    "selinux_settings": _t(LINUX, "SELinux settings.", "scope key value"),
    "apparmor_profiles": _t(LINUX, "AppArmor profiles.", "path name attach mode sha1"),
    "bitlocker_info": _t(
        WIN,
        "BitLocker state of each drive.",
        "device_id drive_letter persistent_volume_id conversion_status protection_status encryption_method "
        "version percentage_encrypted lock_status",
    ),
    "windows_security_center": _t(
        WIN,
        "Windows Security Center health (firewall, antivirus, updates).",
        "firewall autoupdate antivirus antispyware internet_settings windows_security_center_service "
        "user_account_control",
    ),
    "windows_security_products": _t(
        WIN,
        "Security products registered with Windows.",
        "type name state state_timestamp remediation_path signatures_up_to_date",
    ),
}

# Functions osquery adds to SQLite (osquery/sql/sqlite_*.cpp), so queries using them check clean.
OSQUERY_FUNCTIONS = (
    "split",
    "regex_split",
    "regex_match",
    "concat",
    "concat_ws",
    "inet_aton",
    "community_id_v1",
    "md5",
    "sha1",
    "sha256",
    "to_base64",
    "from_base64",
    "conditional_to_base64",
    "carve",
    "in_cidr_block",
    "version_compare",
    "sqrt",
    "log",
    "log10",
    "ceil",
    "floor",
    "power",
    "pi",
    "degrees",
    "radians",
    "sin",
    "cos",
    "tan",
    "cot",
    "asin",
    "acos",
    "atan",
)
