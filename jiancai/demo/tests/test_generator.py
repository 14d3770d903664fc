"""The demo data generator: deterministic, valid identifiers, linear in scale, working demo logins."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db.models import Count
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiancai.accounts.models import District, Organization, OrganizationKind, User, Verdict
from jiancai.accounts.roles import OrgType, Role
from jiancai.accounts.validators import USCC_CHARSET, parse_id_birth_date, validate_id_number, validate_uscc
from jiancai.demo.data import DEMO_DISTRICT_CODE, DISTRICTS, KINDS
from jiancai.demo.generator import (
    DEMO_PASSWORD,
    ENTERPRISES_PER_SCALE,
    PERSONS_PER_SCALE,
    PROJECTS_PER_SCALE,
    DemoDataExists,
    DemoPlan,
    IdentifierFactory,
    KeyedPermutation,
    demo_usernames,
    generate,
    make_uscc,
    org_code_check_char,
    totp_key,
    totp_secret_base32,
)
from jiancai.filings.models import Purchase, Supply, TestReport, Ticket
from jiancai.registry.models import (
    CATEGORY_UNITS,
    Capacity,
    Person,
    PersonCertificate,
    Project,
    ProjectStatus,
    ProjectType,
    Qualification,
    QualificationStatus,
    StructureType,
    Verification,
)

TODAY = dt.date(2026, 3, 1)


def plan(seed: int = 42, scale: int = 2) -> DemoPlan:
    return DemoPlan(seed=seed, scale=scale, today=TODAY)


# ------------------------------------------------------------------------------------------------
# The pure plan
# ------------------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_data():
    first, second = plan(), plan()
    first_enterprises = list(first.enterprises())
    assert first_enterprises == list(second.enterprises())  # every field, persons and certificates included
    assert [e.uscc for e in first_enterprises] == [e.uscc for e in plan().enterprises()]
    assert [p.name for e in first_enterprises for p in e.persons] == [
        p.name for e in plan().enterprises() for p in e.persons
    ]
    assert list(first.projects()) == list(second.projects())
    assert first.regulators() == second.regulators()
    assert first.logins() == second.logins()


def test_other_seed_gives_other_data():
    a, b = list(plan(seed=1).enterprises()), list(plan(seed=2).enterprises())
    assert [e.uscc for e in a] != [e.uscc for e in b]
    assert [e.name for e in a] != [e.name for e in b]
    assert [p.id_number for e in a for p in e.persons] != [p.id_number for e in b for p in e.persons]


def test_a_larger_scale_starts_with_the_same_first_block():
    small, large = list(plan(scale=1).enterprises()), list(plan(scale=3).enterprises())
    assert len(large) == 3 * len(small)
    assert [e.kind for e in large[: len(small)]] == [e.kind for e in small]


def test_uscc_follows_gb_32100_and_is_unique():
    p = plan(scale=5)
    regulators = p.regulators()
    enterprises = list(p.enterprises())
    codes = [r.uscc for r in regulators] + [e.uscc for e in enterprises]
    for code in codes:
        validate_uscc(code)
        assert all(c in USCC_CHARSET for c in code)
        assert org_code_check_char(code[8:16]) == code[16]  # the embedded GB 11714 organization code
    assert len(set(codes)) == len(codes)
    for e in enterprises:
        assert e.uscc[:2] == "91"
        assert e.uscc[2:8] == e.district_code
    assert regulators[0].uscc[:8] == "11110000"
    assert all(r.uscc[:2] == "11" and r.uscc[2:8] == r.district_code for r in regulators[1:])


def test_check_characters_match_a_published_code():
    # 91350100M000100Y43 is the example code of GB 32100.
    body = sum(USCC_CHARSET.index(c) * len(USCC_CHARSET) ** i for i, c in enumerate(reversed("M000100Y")))
    assert org_code_check_char("M000100Y") == "4"
    assert make_uscc("91", "350100", body) == "91350100M000100Y43"


def test_id_numbers_follow_gb_11643_and_are_unique():
    ids = [person.id_number for e in plan(scale=5).enterprises() for person in e.persons]
    assert len(ids) == 5 * PERSONS_PER_SCALE
    assert len(set(ids)) == len(ids)
    regions = {d.code for d in DISTRICTS}
    for number in ids:
        validate_id_number(number)
        assert number[:6] in regions
        birth = parse_id_birth_date(number)
        assert birth is not None and dt.date(1960, 1, 1) <= birth <= dt.date(2000, 12, 31)
    # The extremes of the index space are valid too.
    factory = IdentifierFactory(7)
    validate_id_number(factory.id_number(IdentifierFactory.ID_SPACE - 1))
    validate_uscc(factory.uscc(IdentifierFactory.USCC_SPACE - 1, "110105"))


def test_keyed_permutation_is_a_shuffled_bijection():
    perm = KeyedPermutation(1000, key=5)
    values = [perm(i) for i in range(1000)]
    assert sorted(values) == list(range(1000))
    assert values != list(range(1000))
    assert values != [KeyedPermutation(1000, key=6)(i) for i in range(1000)]
    with pytest.raises(IndexError):
        perm(1000)


def test_plan_has_every_kind_and_consistent_records():
    scale = 5
    p = plan(scale=scale)
    enterprises = list(p.enterprises())
    assert Counter(e.kind for e in enterprises) == {k.code: k.per_scale * scale for k in KINDS}
    demo = [e for e in enterprises if e.is_demo]
    assert sorted(e.kind for e in demo) == sorted(k.code for k in KINDS)
    assert all(e.district_code == DEMO_DISTRICT_CODE for e in demo)

    statuses = Counter[str]()
    verdicts = Counter[str]()
    expired = 0
    for e in enterprises:
        assert re.fullmatch(r".+有限(责任)?公司", e.name)
        verdicts[e.verification.status] += 1
        categories = [c.category for c in e.capacities]
        assert len(categories) == len(set(categories))
        for capacity in e.capacities:
            assert capacity.unit == CATEGORY_UNITS[capacity.category]
            assert capacity.annual_capacity > 0
        if e.kind == "concrete_plant":
            assert categories == ["HNT"]
        if e.kind in ("producer", "mortar_plant"):
            assert categories
        for q in e.qualifications:
            assert q.valid_until >= q.issued_on
            statuses[q.status] += 1
            expired += q.valid_until < TODAY
            verified_at = q.verification.verified_at
            assert verified_at is None or q.issued_on < verified_at.date() < TODAY
        for person in e.persons:
            for certificate in person.certificates:
                assert certificate.valid_until is None or certificate.valid_until >= certificate.issued_on
    assert {QualificationStatus.VALID, QualificationStatus.SUSPENDED} <= set(statuses)
    assert expired > 0
    assert set(verdicts) == set(Verdict.values)


def test_plan_projects_are_consistent():
    scale = 5
    p = plan(scale=scale)
    projects = list(p.projects())
    assert len(projects) == PROJECTS_PER_SCALE * scale
    codes = [x.project_code for x in projects]
    assert len(set(codes)) == len(codes)
    for x in projects:
        assert re.fullmatch(r"BJ\d{4}-\d{4}", x.project_code)
        assert x.floor_area > 0 and x.budget > 0
        assert x.structure_type in StructureType.values
        assert x.project_type in ProjectType.values
        assert 0 <= x.builder < p.kind_count("builder")
        assert x.contractor is None or 0 <= x.contractor < p.kind_count("contractor")
        assert x.supervisor is None or 0 <= x.supervisor < p.kind_count("supervisor")
        if x.status == ProjectStatus.PLANNED:
            assert x.start_date is None and x.completion_date is None
        else:
            assert x.start_date is not None and x.start_date < TODAY
            assert x.contractor is not None
            assert x.project_code[2:6] == str(x.start_date.year)
        if x.status == ProjectStatus.COMPLETED:
            assert x.start_date is not None and x.completion_date is not None
            assert x.start_date <= x.completion_date < TODAY
        else:
            assert x.completion_date is None
    assert {x.status for x in projects} == set(ProjectStatus.values)
    # The demo builder, contractor and supervisor have projects.
    assert projects[0].builder == projects[0].contractor == projects[0].supervisor == 0


# ------------------------------------------------------------------------------------------------
# Writing to the database
# ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_generate_writes_the_plan():
    summary = generate(seed=42, scale=1, today=TODAY)
    p = plan(scale=1)
    enterprises = list(p.enterprises())

    db_enterprises = Organization.objects.filter(org_type=OrgType.ENTERPRISE)
    assert sorted(db_enterprises.values_list("uscc", flat=True)) == sorted(e.uscc for e in enterprises)
    for code in Organization.objects.values_list("uscc", flat=True):
        validate_uscc(code)

    city = Organization.objects.get(org_type=OrgType.CITY_REGULATOR)
    assert city.name == "北京市住房和城乡建设委员会" and city.district is None
    district_regulators = Organization.objects.filter(org_type=OrgType.DISTRICT_REGULATOR)
    assert sorted(district_regulators.values_list("district__code", flat=True)) == sorted(d.code for d in DISTRICTS)
    assert district_regulators.get(district__name="朝阳区").name == "北京市朝阳区住房和城乡建设委员会"

    # Every kind has enterprises; M2M links as planned.
    assert not OrganizationKind.objects.annotate(n=Count("organizations")).filter(n=0).exists()
    assert summary.counts["enterprise_kinds"] == sum(len(e.kinds) for e in enterprises)

    # Persons: the ID number is encrypted, findable by digest, shown masked.
    planned_ids = sorted(person.id_number for e in enterprises for person in e.persons)
    persons = list(Person.objects.all())
    assert sorted(person.reveal_id_number() for person in persons) == planned_ids
    for person in persons:
        number = person.reveal_id_number()
        validate_id_number(number)
        assert person.id_number_masked == number[:6] + "********" + number[-4:]
        assert person.id_number_encrypted != number

    for capacity in Capacity.objects.all():
        assert capacity.unit == CATEGORY_UNITS[capacity.category]

    for project in Project.objects.select_related("builder", "contractor", "supervisor"):
        assert "builder" in project.builder.kinds.values_list("code", flat=True)
        if project.contractor:
            assert "contractor" in project.contractor.kinds.values_list("code", flat=True)
        if project.supervisor:
            assert "supervisor" in project.supervisor.kinds.values_list("code", flat=True)

    # The counts reported are the rows in the database.
    assert summary.counts == {
        "regulators": 17,
        "enterprises": ENTERPRISES_PER_SCALE,
        "enterprise_kinds": Organization.kinds.through.objects.count(),
        "qualifications": Qualification.objects.count(),
        "capacities": Capacity.objects.count(),
        "persons": PERSONS_PER_SCALE,
        "certificates": PersonCertificate.objects.count(),
        "projects": PROJECTS_PER_SCALE,
        "verifications": Verification.objects.count(),
        "users": User.objects.count(),
        "totp_devices": TOTPDevice.objects.count(),
        "supplies": Supply.objects.count(),
        "purchases": Purchase.objects.count(),
        "test_reports": TestReport.objects.count(),
        "tickets": Ticket.objects.count(),
    }


@pytest.mark.django_db
def test_demo_filings_agree_with_each_other():
    """The demo's filings are clean: each rebar contract's supplies and purchases carry the same total."""
    from django.db.models import Sum

    generate(seed=42, scale=1, today=TODAY)
    supplied = dict(Supply.objects.values_list("contract_no").annotate(total=Sum("quantity")))
    purchased = dict(Purchase.objects.values_list("contract_no").annotate(total=Sum("quantity")))
    assert supplied and supplied == purchased
    assert Ticket.objects.exists()
    # Every purchase cites a witness report that exists; there is one report per 60 t batch (so some are uncited).
    reports = set(TestReport.objects.values_list("report_no", flat=True))
    cited = set(Purchase.objects.values_list("witness_report_no", flat=True))
    assert cited and cited <= reports and len(reports) > len(cited)


@pytest.mark.django_db
def test_verdicts_have_their_verification_records():
    generate(seed=42, scale=1, today=TODAY)
    checked = 0
    querysets = [
        Organization.objects.filter(org_type=OrgType.ENTERPRISE),
        Qualification.objects.all(),
        Capacity.objects.select_related("organization"),
        Person.objects.all(),
        Project.objects.all(),
    ]
    for queryset in querysets:
        model = queryset.model
        items = queryset.exclude(verification_status=Verdict.PENDING)
        for item in items:
            row = Verification.objects.get(object_id=item.pk, content_type__model=model._meta.model_name)
            assert row.verdict == item.verification_status
            assert row.reason == item.verification_reason != ""
            assert row.created_at == item.verified_at
            assert row.verifier_name == item.verified_by_name
            assert row.item_repr == str(item)
            district = item.district if isinstance(item, (Organization, Project)) else item.organization.district
            # A district's own regulator verifies its items (for the demo district); the city the rest.
            expected = "chaoyang_business" if district.code == DEMO_DISTRICT_CODE else "city_business"
            assert row.verifier.username == expected
            checked += 1
    assert checked == Verification.objects.count() > 0
    assert Verdict.PENDING in Person.objects.values_list("verification_status", flat=True)


@pytest.mark.django_db
@pytest.mark.parametrize("scale", [1, 3])
def test_counts_scale_linearly(scale):
    summary = generate(seed=5, scale=scale, today=TODAY, batch_size=50)  # small batches: many rounds
    assert Organization.objects.filter(org_type=OrgType.ENTERPRISE).count() == ENTERPRISES_PER_SCALE * scale
    assert Person.objects.count() == PERSONS_PER_SCALE * scale
    assert Project.objects.count() == PROJECTS_PER_SCALE * scale
    assert summary.counts["enterprises"] == ENTERPRISES_PER_SCALE * scale
    assert ENTERPRISES_PER_SCALE * scale <= Qualification.objects.count() <= 2 * ENTERPRISES_PER_SCALE * scale
    # Regulators and logins do not grow with the scale.
    assert Organization.objects.exclude(org_type=OrgType.ENTERPRISE).count() == 1 + District.objects.count()
    assert User.objects.count() == len(demo_usernames())


@pytest.mark.django_db
def test_demo_logins_work():
    summary = generate(seed=42, scale=1, today=TODAY)
    assert [login.username for login in summary.logins] == demo_usernames()
    assert {"city_business", "city_sysadmin", "city_security", "city_audit", "chaoyang_business"} <= set(
        demo_usernames()
    )
    for login in summary.logins:
        user = User.objects.select_related("organization").get(username=login.username)
        assert authenticate(username=login.username, password=DEMO_PASSWORD) == user
        validate_password(DEMO_PASSWORD, user)  # the demo password satisfies the platform's policy
        assert user.display_name == login.display_name
        assert user.organization is not None and user.organization.name == login.organization
        assert user.role == login.role and Role(user.role).label == login.role_label
        assert user.role in user.organization.allowed_roles()
        assert not user.password_expired() and not user.must_change_password
        devices = list(TOTPDevice.objects.filter(user=user))
        if user.is_regulator:
            assert [d.confirmed for d in devices] == [True]
            device = devices[0]
            assert device.key == totp_key(42, user.username) and len(device.key) == 40
            assert login.totp_secret == totp_secret_base32(device.key)
            assert device.verify_token(TOTP(device.bin_key, step=device.step, digits=device.digits).token())
        else:
            assert devices == [] and login.totp_secret is None
            kind = login.username.rsplit("_", 1)[0]
            assert kind in user.organization.kinds.values_list("code", flat=True)
            assert user.organization.district is not None and user.organization.district.code == DEMO_DISTRICT_CODE
    roles = Counter((u.organization.org_type, u.role) for u in User.objects.select_related("organization"))
    assert roles[(OrgType.CITY_REGULATOR, Role.SYSTEM_ADMIN)] == 1
    assert roles[(OrgType.CITY_REGULATOR, Role.SECURITY_ADMIN)] == 1
    assert roles[(OrgType.CITY_REGULATOR, Role.AUDIT_ADMIN)] == 1
    assert roles[(OrgType.CITY_REGULATOR, Role.BUSINESS)] == 1
    assert roles[(OrgType.DISTRICT_REGULATOR, Role.BUSINESS)] == 1
    assert roles[(OrgType.ENTERPRISE, Role.ORG_ADMIN)] == len(KINDS)


@pytest.mark.django_db
def test_generate_refuses_when_demo_data_exists():
    generate(seed=1, scale=1, today=TODAY)
    before = (Organization.objects.count(), Person.objects.count(), User.objects.count())
    with pytest.raises(DemoDataExists):
        generate(seed=2, scale=1, today=TODAY)
    assert (Organization.objects.count(), Person.objects.count(), User.objects.count()) == before
