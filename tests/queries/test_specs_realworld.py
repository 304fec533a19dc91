"""Every real Fleet and kolide spec file either applies (and re-applies with no change) or is
refused with its file and line."""

import pytest

from queries.specs import SpecError, apply_spec_text

from ..conftest import REALWORLD

SPEC_FILES = sorted(
    str(path.relative_to(REALWORLD))
    for root in (REALWORLD / "fleet", REALWORLD / "kolide-fleet")
    for path in root.rglob("*")
    if path.suffix in (".yml", ".yaml")
)

GITOPS_LIST = (1, "looks like a Fleet gitops file")
# What each file does: the number of objects it creates, or (line, message fragment) of the refusal.
EXPECTED: dict[str, int | tuple[int, str]] = {
    "fleet/cmd/fleetctl/fleetctl/testdata/convert_output.yml": 24,
    "fleet/cmd/fleetctl/fleetctl/testdata/expectedGetConfigAppConfigYaml.yml": 0,
    "fleet/cmd/fleetctl/fleetctl/testdata/generateGitops/expectedGlobalPolicies.yaml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/generateGitops/expectedGlobalQueries.yaml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/generateGitops/expectedLabels.yaml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/generateGitops/expectedTeamQueries.yaml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/global_config_no_paths.yml": (2, "looks like a Fleet gitops file"),
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/lib/agent-options.yml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/lib/query_multiple.yml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/lib/query_multiple_apply.yml": 2,
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/lib/query_ruby.yml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/lib/query_ruby_apply.yml": 1,
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/lib/query_ruby_env.yml": GITOPS_LIST,
    "fleet/cmd/fleetctl/fleetctl/testdata/gitops/team_config_no_paths.yml": GITOPS_LIST,
    "fleet/docs/01-Using-Fleet/standard-query-library/standard-query-library.yml": 94,
    "fleet/docs/01-Using-Fleet/starter-library/starter-library.yml": (12, "kind 'team' is not supported"),
    "fleet/docs/queries.yml": (2409, "invalid YAML"),
    "fleet/ee/cis/macos-14/cis-policy-queries.yml": 111,
    "fleet/ee/cis/win-11/cis-policy-queries.yml": 555,
    "fleet/pkg/spec/testdata/agent-options.yml": GITOPS_LIST,
    "fleet/pkg/spec/testdata/empty.yml": 0,
    "fleet/pkg/spec/testdata/global_config.yml": (2, "looks like a Fleet gitops file"),
    "fleet/pkg/spec/testdata/policies/policies.yml": GITOPS_LIST,
    "fleet/pkg/spec/testdata/policies/policies2.yml": GITOPS_LIST,
    "fleet/pkg/spec/testdata/top.labels.yml": GITOPS_LIST,
    "fleet/pkg/spec/testdata/top.queries.yml": GITOPS_LIST,
    "fleet/tools/kubequery/queries-kubequery-fleet.yml": (14, "fleetweb has no teams"),
    "kolide-fleet/examples/config-many-files/config.yml": (19, "decorators.interval.3600 must be a list"),
    "kolide-fleet/examples/config-many-files/enroll-secret.yml": 3,
    "kolide-fleet/examples/config-many-files/labels.yml": 2,
    "kolide-fleet/examples/config-many-files/packs/osquery-monitoring.yml": (7, "no query named 'osquery_version'"),
    "kolide-fleet/examples/config-many-files/queries.yml": 15,
    "kolide-fleet/examples/config-single-file.yml": (19, "decorators.interval.3600 must be a list"),
}


def test_every_real_spec_file_has_an_expectation():
    assert sorted(EXPECTED) == SPEC_FILES


@pytest.mark.django_db
@pytest.mark.parametrize("rel", SPEC_FILES)
def test_real_spec_file(rel):
    path = REALWORLD / rel
    text = path.read_text()
    expected = EXPECTED[rel]
    if isinstance(expected, tuple):
        line, fragment = expected
        with pytest.raises(SpecError) as info:
            apply_spec_text(text, str(path))
        assert str(info.value).startswith(f"{path}:{line}: "), str(info.value)
        assert fragment in info.value.message
        return
    report = apply_spec_text(text, str(path))
    assert report.counts()["created"] == expected, report.lines()
    second = apply_spec_text(text, str(path))
    assert not second.changed, [o for o in second.outcomes if o.status != "unchanged"]
    assert second.counts()["unchanged"] == len(report.outcomes)
