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
        "System information for identification.",
        "hostname uuid cpu_type cpu_subtype cpu_brand cpu_physical_cores cpu_logical_cores cpu_sockets "
        "cpu_microcode physical_memory hardware_vendor hardware_model hardware_version hardware_serial "
        "board_vendor board_model board_version board_serial computer_name local_hostname",
    ),
    "os_version": _t(
        ALL,
        "The operating system name and version.",
        "name version major minor patch build platform platform_like codename arch extra install_date "
        "revision pid_with_namespace mount_namespace_id",
    ),
    "osquery_info": _t(
        ALL,
        "Top level information about the running osquery instance.",
        "pid uuid instance_id version config_hash config_valid extensions build_platform build_distro "
        "start_time watcher platform_mask",
    ),
    "osquery_schedule": _t(
        ALL,
        "Information about the current schedule and its performance.",
        "name query interval executions last_executed denylisted output_size wall_time wall_time_ms "
        "last_wall_time_ms user_time last_user_time system_time last_system_time average_memory last_memory",
    ),
    "osquery_packs": _t(
        ALL,
        "Information about the current query packs.",
        "name platform version shard discovery_cache_hits discovery_executions active",
    ),
    "osquery_flags": _t(
        ALL,
        "Configurable flags that modify osquery's behavior.",
        "name type description default_value value shell_only",
    ),
    "osquery_extensions": _t(ALL, "List of active osquery extensions.", "uuid name version sdk_version path type"),
    "osquery_registry": _t(ALL, "List the osquery registry plugins.", "registry name owner_uuid internal active"),
    "osquery_events": _t(
        ALL,
        "Information about the event publishers and subscribers.",
        "name publisher type subscriptions events refreshes active",
    ),
    "time": _t(
        ALL,
        "Track current date and time in UTC.",
        "weekday year month day hour minutes seconds timezone local_timezone unix_time timestamp datetime "
        "iso_8601 win_timestamp",
    ),
    "uptime": _t(ALL, "Track time passed since last boot.", "days hours minutes seconds total_seconds"),
    "platform_info": _t(
        ALL,
        "Information about EFI/UEFI/ROM and platform/boot.",
        "vendor version date revision extra firmware_type address size volume_size",
    ),
    # Processes and network.
    "processes": _t(
        ALL,
        "All running processes on the host system.",
        "pid name path cmdline state cwd root uid gid euid egid suid sgid on_disk wired_size resident_size "
        "total_size user_time system_time disk_bytes_read disk_bytes_written start_time parent pgroup threads "
        "nice elevated_token secure_process protection_type virtual_process elapsed_time handle_count "
        "percent_processor_time upid uppid cpu_type cpu_subtype translated cgroup_path phys_footprint",
    ),
    "process_open_sockets": _t(
        ALL,
        "Processes which have open network sockets on the system.",
        "pid fd socket family protocol local_address remote_address local_port remote_port path state net_namespace",
    ),
    "process_open_files": _t(POSIX, "File descriptors for each process.", "pid fd path"),
    "process_envs": _t(POSIX, "A key/value table of environment variables for each process.", "pid key value"),
    "process_events": _t(
        POSIX,
        "Track process executions (evented).",
        "pid path mode cmdline cmdline_size env env_count env_size cwd auid uid euid gid egid owner_uid "
        "owner_gid atime mtime ctime btime overflows parent time uptime status fsuid suid fsgid sgid syscall eid",
    ),
    "socket_events": _t(
        POSIX,
        "Track network socket opens and closes (evented).",
        "action pid path fd auid success family protocol local_address remote_address local_port remote_port "
        "socket time uptime eid status",
    ),
    "listening_ports": _t(
        ALL,
        "Processes with listening (bound) network sockets/ports.",
        "pid port protocol family address fd socket path net_namespace",
    ),
    "interface_addresses": _t(
        ALL,
        "Network interfaces and relevant metadata.",
        "interface address mask broadcast point_to_point type friendly_name",
    ),
    "interface_details": _t(
        ALL,
        "Detailed information and stats of network interfaces.",
        "interface mac type mtu metric flags ipackets opackets ibytes obytes ierrors oerrors idrops odrops "
        "collisions last_change link_speed pci_slot friendly_name description manufacturer connection_id "
        "connection_status enabled physical_adapter speed service dhcp_enabled dhcp_lease_expires "
        "dhcp_lease_obtained dhcp_server dns_domain dns_domain_suffix_search_order dns_host_name "
        "dns_server_search_order",
    ),
    "routes": _t(
        ALL,
        "The active route table for the host system.",
        "destination netmask gateway source flags interface mtu metric type hopcount",
    ),
    "arp_cache": _t(
        ALL, "Address resolution cache, both static and dynamic (from ARP, NDP).", "address mac interface permanent"
    ),
    "etc_hosts": _t(ALL, "Line-parsed /etc/hosts.", "address hostnames pid_with_namespace"),
    "dns_resolvers": _t(POSIX, "Resolvers used by this host.", "id type address netmask options pid_with_namespace"),
    "curl": _t(
        ALL,
        "Perform an HTTP request and return stats about it.",
        "url method user_agent response_code round_trip_time bytes result",
    ),
    "iptables": _t(
        LINUX,
        "Linux IP packet filtering and NAT tool.",
        "filter_name chain policy target protocol src_port dst_port src_ip src_mask iniface iniface_mask dst_ip "
        "dst_mask outiface outiface_mask match packets bytes",
    ),
    # Users and sessions.
    "users": _t(
        ALL,
        "Local user accounts (including domain accounts that have logged on locally (Windows)).",
        # email: ChromeOS hosts report it through fleetd.
        "uid gid uid_signed gid_signed username description directory shell uuid type is_hidden "
        "pid_with_namespace email",
    ),
    "groups": _t(ALL, "Local system groups.", "gid gid_signed groupname group_sid comment is_hidden"),
    "user_groups": _t(ALL, "Local system user group relationships.", "uid gid"),
    "logged_in_users": _t(
        ALL, "Users with an active shell on the system.", "type user tty host time pid sid registry_hive"
    ),
    "last": _t(POSIX, "System logins and logouts.", "username tty pid type type_name time host"),
    "shell_history": _t(
        POSIX, "A line-delimited (command) table of per-user .*_history data.", "uid time command history_file"
    ),
    "authorized_keys": _t(
        POSIX, "A line-delimited authorized_keys table.", "uid algorithm key options comment key_file"
    ),
    "known_hosts": _t(POSIX, "A line-delimited known_hosts table.", "uid key key_file"),
    "user_ssh_keys": _t(ALL, "Returns the private keys in the users ~/.ssh directory.", "uid path encrypted key_type"),
    "ssh_configs": _t(ALL, "A table of parsed ssh_configs.", "uid block option ssh_config_file"),
    "sudoers": _t(POSIX, "Rules for running commands as other users via sudo.", "source header rule_details"),
    "account_policy_data": _t(
        MAC,
        "Additional macOS user account data from the AccountPolicy section of OpenDirectory.",
        "uid creation_time failed_login_count failed_login_timestamp password_last_set_time",
    ),
    # Files.
    "file": _t(
        ALL,
        "Interactive filesystem attributes and metadata (needs a path or directory constraint).",
        "path directory filename inode uid gid mode device size block_size atime mtime ctime btime hard_links "
        "symlink type attributes volume_serial file_id file_version product_version original_filename bsd_flags "
        "pid_with_namespace mount_namespace_id",
    ),
    "hash": _t(
        ALL,
        "Filesystem hash data (needs a path or directory constraint).",
        "path directory md5 sha1 sha256 ssdeep pid_with_namespace mount_namespace_id",
    ),
    "file_events": _t(
        POSIX,
        "Track time/action changes to files specified in the configuration (evented).",
        "target_path category action transaction_id inode uid gid mode size atime mtime ctime md5 sha1 sha256 "
        "hashed time eid",
    ),
    "yara": _t(
        POSIX,
        "Match YARA rules against files (needs a path constraint).",
        "path matches count sig_group sigfile sigrule strings tags sigurl",
    ),
    "carves": _t(
        ALL,
        "List the set of completed and in-progress carves.",
        "time sha256 size path status carve_guid request_id carve",
    ),
    "suid_bin": _t(POSIX, "suid binaries in common locations.", "path username groupname permissions"),
    "mounts": _t(
        POSIX,
        "System mounted devices and filesystems (not process specific).",
        "device device_alias path type blocks_size blocks blocks_free blocks_available inodes inodes_free flags",
    ),
    "block_devices": _t(
        POSIX, "Block (buffered access) device file nodes.", "name parent vendor model size block_size uuid type label"
    ),
    "disk_encryption": _t(
        POSIX,
        "Disk encryption status and information.",
        "name uuid encrypted type encryption_status uid user_uuid filevault_status",
    ),
    "plist": _t(MAC, "Read and parse a plist file (needs a path constraint).", "key subkey value parent path"),
    "augeas": _t(POSIX, "Configuration files parsed by augeas.", "node value label path"),
    # Software.
    "apps": _t(
        MAC,
        "macOS applications installed in known search paths.",
        "name path bundle_executable bundle_identifier bundle_name bundle_short_version bundle_version "
        "bundle_package_type environment element compiler development_region display_name info_string "
        "minimum_system_version category applescript_enabled copyright last_opened_time",
    ),
    "deb_packages": _t(
        LINUX,
        "The installed DEB package database.",
        "name version source size arch revision status maintainer section priority admindir pid_with_namespace "
        "mount_namespace_id",
    ),
    "rpm_packages": _t(
        LINUX,
        "RPM packages that are currently installed on the host system.",
        "name version release source size sha1 arch epoch install_time vendor package_group pid_with_namespace "
        "mount_namespace_id",
    ),
    "apt_sources": _t(
        LINUX,
        "Current list of APT repositories or software channels.",
        "name source base_uri release version maintainer components architectures pid_with_namespace",
    ),
    "yum_sources": _t(
        LINUX,
        "Current list of Yum repositories or software channels.",
        "name baseurl mirrorlist enabled gpgcheck gpgkey",
    ),
    "programs": _t(
        WIN,
        "Represents products as they are installed by Windows Installer.",
        "name version install_location install_source language publisher uninstall_string install_date "
        "identifying_number",
    ),
    "chocolatey_packages": _t(
        WIN, "Chocolatey packages installed in a system.", "name version summary author license path"
    ),
    "homebrew_packages": _t(
        MAC, "The installed homebrew package database.", "name path version type auto_updated app_name prefix"
    ),
    "package_receipts": _t(
        MAC,
        "macOS package receipt details.",
        "package_id package_filename version location install_time installer_name path",
    ),
    "python_packages": _t(
        ALL,
        "Python packages installed in a system.",
        "name version summary author license path directory pid_with_namespace",
    ),
    "npm_packages": _t(
        ALL,
        "Node packages installed in a system.",
        "name version description author license homepage path directory pid_with_namespace mount_namespace_id",
    ),
    "chrome_extensions": _t(
        ALL,
        "Chrome-based browser extensions.",
        "browser_type uid name profile profile_path referenced_identifier identifier version description "
        "default_locale current_locale update_url author persistent path permissions permissions_json "
        "optional_permissions optional_permissions_json manifest_hash referenced from_webstore state "
        "install_time install_timestamp manifest_json key",
    ),
    "firefox_addons": _t(
        ALL,
        "Firefox browser extensions, webapps, and addons.",
        "uid name identifier creator type version description source_url visible active disabled autoupdate "
        "location path",
    ),
    "safari_extensions": _t(
        MAC,
        "Safari browser extension details for all users.",
        "uid name identifier version sdk update_url author developer_id description path bundle_version "
        "copyright extension_type",
    ),
    "ie_extensions": _t(WIN, "Internet Explorer browser extensions.", "name registry_path version path"),
    "vscode_extensions": _t(
        ALL,
        "Lists all vscode extensions.",
        "name uuid version publisher publisher_id installed_at prerelease uid path vscode_edition",
    ),
    "docker_containers": _t(
        POSIX,
        "Docker containers information.",
        "id name image image_id command created state status pid path config_entrypoint started_at finished_at "
        "privileged security_options env_variables readonly_rootfs cgroup_namespace ipc_namespace mnt_namespace "
        "net_namespace pid_namespace user_namespace uts_namespace",
    ),
    "docker_images": _t(POSIX, "Docker images information.", "id created size_bytes tags"),
    "signature": _t(
        MAC,
        "File (executable, bundle, installer, disk) code signing status (needs a path constraint).",
        "path hash_resources arch signed identifier cdhash team_identifier authority",
    ),
    "certificates": _t(
        ALL,
        "Certificate Authorities installed in Keychains/ca-bundles.",
        "common_name subject issuer ca self_signed not_valid_before not_valid_after signing_algorithm "
        "key_algorithm key_strength key_usage subject_key_id authority_key_id sha1 path serial sid "
        "store_location store username store_id",
    ),
    # Persistence and services.
    "crontab": _t(
        POSIX,
        "Line parsed values from system and user cron/tab.",
        "event minute hour day_of_month month day_of_week command path pid_with_namespace",
    ),
    "startup_items": _t(
        ALL, "Applications and binaries set as user/login startup items.", "name path args type source status username"
    ),
    "launchd": _t(
        MAC,
        "LaunchAgents and LaunchDaemons from default search paths.",
        "path name label program run_at_load keep_alive on_demand disabled username groupname stdout_path "
        "stderr_path start_interval program_arguments watch_paths queue_directories inetd_compatibility "
        "start_on_mount root_directory working_directory process_type",
    ),
    "systemd_units": _t(
        LINUX,
        "Track systemd units.",
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
        "Lists all of the tasks in the Windows task scheduler.",
        "name action path enabled state hidden last_run_time next_run_time last_run_message last_run_code",
    ),
    "autoexec": _t(
        WIN, "Aggregate of executables that will automatically execute on the target machine.", "path name source"
    ),
    "registry": _t(WIN, "All of the Windows registry hives.", "key path name type data mtime"),
    "drivers": _t(
        WIN,
        "Details for in-use Windows device drivers.",
        "device_id device_name image description service service_key version inf class provider manufacturer "
        "driver_key date signed",
    ),
    "patches": _t(
        WIN,
        "Lists all the patches applied.",
        "csname hotfix_id caption description fix_comments installed_by install_date installed_on",
    ),
    "windows_optional_features": _t(
        WIN, "Lists names and installation states of windows features.", "name caption state statename"
    ),
    # Kernel and hardware.
    "kernel_info": _t(ALL, "Basic active kernel information.", "version arguments path device"),
    "kernel_modules": _t(
        LINUX, "Linux kernel modules both loaded and within the load search path.", "name size used_by status address"
    ),
    "kernel_extensions": _t(
        MAC,
        "macOS's kernel extensions, both loaded and within the load search path.",
        "idx refs size name version linked_against path",
    ),
    "system_controls": _t(
        POSIX,
        "sysctl names, values, and settings information.",
        "name oid subsystem current_value config_value type field_name",
    ),
    "usb_devices": _t(
        POSIX,
        "USB devices that are actively plugged into the host system.",
        "usb_address usb_port vendor vendor_id version model model_id serial class subclass protocol removable",
    ),
    "pci_devices": _t(
        POSIX,
        "PCI devices active on the host system.",
        "pci_slot pci_class driver vendor vendor_id model model_id pci_class_id pci_subclass_id pci_subclass "
        "subsystem_vendor_id subsystem_vendor subsystem_model_id subsystem_model",
    ),
    "memory_info": _t(
        LINUX,
        "Main memory information in bytes.",
        "memory_total memory_free memory_available buffers cached swap_cached active inactive swap_total swap_free",
    ),
    "load_average": _t(POSIX, "Displays information about the system wide load averages.", "period average"),
    "tpm_info": _t(
        WIN,
        "A table that lists the TPM related information.",
        "activated enabled owned manufacturer_version manufacturer_id manufacturer_name product_name "
        "physical_presence_version spec_version",
    ),
    # Security posture.
    "sip_config": _t(
        MAC, "Apple's System Integrity Protection (rootless) status.", "config_flag enabled enabled_nvram"
    ),
    "gatekeeper": _t(MAC, "macOS Gatekeeper Details.", "assessments_enabled dev_id_enabled version opaque_version"),
    "alf": _t(
        MAC,
        "macOS application layer firewall (ALF) service details.",
        "allow_signed_enabled firewall_unload global_state logging_enabled logging_option stealth_enabled version",
    ),
    "sharing_preferences": _t(
        MAC,
        "macOS Sharing preferences.",
        "screen_sharing file_sharing printer_sharing remote_login remote_management remote_apple_events "
        "internet_sharing bluetooth_sharing disc_sharing content_caching",
    ),
    "screenlock": _t(MAC, "macOS screenlock status for the current logged in user context.", "enabled grace_period"),
    "managed_policies": _t(
        MAC, "The managed configuration policies from AD, MDM, MCX, etc.", "domain uuid name value username manual"
    ),
    "preferences": _t(MAC, "macOS defaults and managed preferences.", "domain key subkey value forced username host"),
    "secureboot": _t(("linux", "windows"), "Secure Boot UEFI Settings.", "secure_boot secure_mode setup_mode"),
    "selinux_settings": _t(LINUX, "Track active SELinux settings.", "scope key value"),
    "apparmor_profiles": _t(LINUX, "Track active AppArmor profiles.", "path name attach mode sha1"),
    "bitlocker_info": _t(
        WIN,
        "Retrieve bitlocker status of the machine.",
        "device_id drive_letter persistent_volume_id conversion_status protection_status encryption_method "
        "version percentage_encrypted lock_status",
    ),
    "windows_security_center": _t(
        WIN,
        "The health status of Window Security features.",
        "firewall autoupdate antivirus antispyware internet_settings windows_security_center_service "
        "user_account_control",
    ),
    "windows_security_products": _t(
        WIN,
        "Enumeration of registered Windows security products.",
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
