"""Deterministic demo data: regulators, enterprises of every kind, their qualifications, capacities and
personnel, projects, and demo logins (with TOTP devices for the regulators).

Two layers:

* `DemoPlan` is pure: from a seed and a scale it yields frozen *spec* records (no database access), always the
  same for the same seed. Identifiers are valid and unique by construction (a keyed permutation of an index),
  so no set of already used values has to be kept in memory.
* `generate()` writes a plan into the database with `bulk_create` in batches, so a scale of 1 (a few dozen
  rows) and a scale of 10 000 (millions of rows) take the same code path and bounded memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from faker import Faker
from faker.providers.company.zh_CN import Provider as CompanyProvider

from jiancai.accounts.models import District, Organization, OrganizationKind, User, Verdict
from jiancai.accounts.roles import OrgType, Role
from jiancai.accounts.validators import USCC_CHARSET, id_check_char, mask_id_number, uscc_check_char
from jiancai.registry.models import (
    CATEGORY_CHOICES,
    CATEGORY_UNITS,
    Capacity,
    Person,
    PersonCertificate,
    Project,
    ProjectStatus,
    Qualification,
    QualificationStatus,
    Verification,
)
from jiancai.registry.protected import encrypt_text, lookup_digest

from .data import (
    BRAND_CHARACTERS,
    CAPACITY_RANGES,
    CERTIFICATES,
    CITY_ADMIN_CODE,
    DEMO_DISTRICT_CODE,
    DISTRICT_BY_CODE,
    DISTRICTS,
    GOVERNMENT_PROJECT_TYPES,
    KIND_BY_CODE,
    KINDS,
    MATERIAL_FILING,
    PRODUCT_LINES,
    PRODUCTION_LICENCE,
    PROJECT_TYPE_WEIGHTS,
    PROJECT_TYPES,
    ROAD_SUFFIXES,
    VERIFICATION_REASONS_CONFIRMED,
    VERIFICATION_REASONS_FALSE,
    KindInfo,
    ProductLine,
    QualificationTemplate,
)

DEMO_PASSWORD = "Jiancai@2026"
BATCH_SIZE = 5000
CITY_REGULATOR_NAME = "北京市住房和城乡建设委员会"
CITY_REGULATOR_ADDRESS = "北京市通州区达济街9号院"
TOTP_DEVICE_NAME = "动态口令"
BEIJING = ZoneInfo("Asia/Shanghai")

ENTERPRISES_PER_SCALE = sum(k.per_scale for k in KINDS)  # 30
PERSONS_PER_SCALE = sum(k.per_scale * len(k.roles) for k in KINDS)  # 62
PROJECTS_PER_SCALE = 40

ID_BIRTH_FIRST = dt.date(1960, 1, 1)
ID_BIRTH_LAST = dt.date(2000, 12, 31)
_ID_DAYS = (ID_BIRTH_LAST - ID_BIRTH_FIRST).days + 1
_ID_SEQUENCES = 999  # sequence codes 001-999
_USCC_BODY_LEN = 8  # the organization code body; its 9th character is the GB 11714 check character
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

T = TypeVar("T")

_NOT_A_BRAND = tuple("电子 计算机 公司 数字 科技 信息 软件 电脑 开发区 国际 济南 襄樊 浙大 网新".split())
# Faker's zh_CN company words that read as a trade name of any business (most of its list is IT companies).
_FAKER_BRANDS = tuple(
    sorted(
        {
            w
            for w in CompanyProvider.company_prefixes
            if all("\u4e00" <= c <= "\u9fff" for c in w) and not any(x in w for x in _NOT_A_BRAND)
        }
    )
)


# --------------------------------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------------------------------


def derive_seed(seed: int, purpose: str) -> int:
    """An independent, stable sub-seed (not affected by PYTHONHASHSEED)."""
    return int.from_bytes(hashlib.sha256(f"jiancai-demo:{seed}:{purpose}".encode()).digest()[:8], "big")


class KeyedPermutation:
    """A pseudo-random bijection of range(size): a 4-round Feistel network over the next even power of two,
    with cycle walking. `perm(i)` for distinct i gives distinct values, so generated identifiers are unique
    without remembering them."""

    def __init__(self, size: int, key: int) -> None:
        if size < 2:
            raise ValueError("size must be at least 2")
        bits = (size - 1).bit_length()
        bits += bits % 2
        self.size = size
        self._half = bits // 2
        self._mask = (1 << self._half) - 1
        rng = random.Random(key)
        self._keys = tuple(rng.getrandbits(64) for _ in range(4))

    def _round(self, value: int, key: int) -> int:
        h = ((value ^ key) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 29
        h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 32
        return h & self._mask

    def _encrypt(self, value: int) -> int:
        left, right = value >> self._half, value & self._mask
        for key in self._keys:
            left, right = right, left ^ self._round(right, key)
        return (left << self._half) | right

    def __call__(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} outside 0..{self.size - 1}")
        value = self._encrypt(index)
        while value >= self.size:
            value = self._encrypt(value)
        return value


def org_code_check_char(body: str) -> str:
    """GB 11714 check character of an 8-character organization code body."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def make_uscc(prefix: str, admin_code: str, body_number: int) -> str:
    """A GB 32100 code: registration authority and type (`prefix`, "91" for a company, "11" for a government
    body), the 6-digit administrative division, the 9-character organization code, the check character."""
    chars = []
    for _ in range(_USCC_BODY_LEN):
        body_number, digit = divmod(body_number, len(USCC_CHARSET))
        chars.append(USCC_CHARSET[digit])
    body = "".join(reversed(chars))
    first17 = f"{prefix}{admin_code}{body}{org_code_check_char(body)}"
    return first17 + uscc_check_char(first17)


def make_id_number(region_code: str, birth: dt.date, sequence: int) -> str:
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


class IdentifierFactory:
    """Unique USCCs and citizen ID numbers, from an index, for one seed."""

    USCC_SPACE = len(USCC_CHARSET) ** _USCC_BODY_LEN
    ID_SPACE = len(DISTRICTS) * _ID_DAYS * _ID_SEQUENCES

    def __init__(self, seed: int) -> None:
        self._uscc = KeyedPermutation(self.USCC_SPACE, derive_seed(seed, "uscc"))
        self._id = KeyedPermutation(self.ID_SPACE, derive_seed(seed, "id-number"))

    def uscc(self, index: int, admin_code: str, prefix: str = "91") -> str:
        return make_uscc(prefix, admin_code, self._uscc(index))

    def id_number(self, index: int) -> str:
        value = self._id(index)
        value, region = divmod(value, len(DISTRICTS))
        day, sequence = divmod(value, _ID_SEQUENCES)
        return make_id_number(DISTRICTS[region].code, ID_BIRTH_FIRST + dt.timedelta(days=day), sequence + 1)


def totp_key(seed: int, username: str) -> str:
    """The demo TOTP secret of a user: 20 bytes as 40 hex characters, derived from the seed and username."""
    return hmac.new(b"jiancai-demo-totp", f"{seed}:{username}".encode(), hashlib.sha1).hexdigest()


def totp_secret_base32(hex_key: str) -> str:
    """The secret as authenticator apps take it."""
    return base64.b32encode(bytes.fromhex(hex_key)).decode()


# --------------------------------------------------------------------------------------------------
# Specs (pure)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationSpec:
    status: str  # Verdict
    reason: str = ""
    verified_at: dt.datetime | None = None


@dataclass(frozen=True)
class QualificationSpec:
    certificate_no: str
    qualification_type: str
    grade: str
    issued_on: dt.date
    valid_until: dt.date
    status: str
    verification: VerificationSpec


@dataclass(frozen=True)
class CapacitySpec:
    category: str
    annual_capacity: Decimal
    unit: str
    verification: VerificationSpec


@dataclass(frozen=True)
class CertificateSpec:
    name: str
    certificate_no: str
    issued_on: dt.date
    valid_until: dt.date | None


@dataclass(frozen=True)
class PersonSpec:
    name: str
    id_number: str
    role: str
    phone: str
    verification: VerificationSpec
    certificates: tuple[CertificateSpec, ...]


@dataclass(frozen=True)
class EnterpriseSpec:
    index: int  # among enterprises, from 0
    kind: str  # the primary kind
    kind_ordinal: int  # among the enterprises of the primary kind, from 0
    kinds: tuple[str, ...]
    uscc: str
    name: str
    district_code: str
    legal_representative: str
    address: str
    phone: str
    verification: VerificationSpec
    qualifications: tuple[QualificationSpec, ...]
    capacities: tuple[CapacitySpec, ...]
    persons: tuple[PersonSpec, ...]

    @property
    def is_demo(self) -> bool:
        """The first enterprise of each kind carries the demo logins."""
        return self.kind_ordinal == 0


@dataclass(frozen=True)
class ProjectSpec:
    project_code: str
    name: str
    district_code: str
    builder: int  # ordinal among builders
    contractor: int | None  # ordinal among contractors
    supervisor: int | None  # ordinal among supervisors
    floor_area: Decimal
    structure_type: str
    project_type: str
    budget: Decimal
    government_funded: bool
    start_date: dt.date | None
    completion_date: dt.date | None
    status: str
    verification: VerificationSpec


@dataclass(frozen=True)
class RegulatorSpec:
    uscc: str
    name: str
    org_type: str
    district_code: str | None
    address: str
    phone: str


@dataclass(frozen=True)
class LoginSpec:
    username: str
    display_name: str
    role: str
    phone: str
    regulator: str | None = None  # "city" or a district code
    enterprise_kind: str | None = None


# Regulator demo logins: (username, role).
CITY_LOGINS = (
    ("city_sysadmin", Role.SYSTEM_ADMIN),
    ("city_security", Role.SECURITY_ADMIN),
    ("city_audit", Role.AUDIT_ADMIN),
    ("city_business", Role.BUSINESS),
)
DISTRICT_LOGINS = (("sysadmin", Role.SYSTEM_ADMIN), ("business", Role.BUSINESS))
ENTERPRISE_LOGINS = (("admin", Role.ORG_ADMIN), ("staff", Role.STAFF))


def demo_usernames() -> list[str]:
    slug = DISTRICT_BY_CODE[DEMO_DISTRICT_CODE].slug
    names = [u for u, _ in CITY_LOGINS]
    names += [f"{slug}_{suffix}" for suffix, _ in DISTRICT_LOGINS]
    names += [f"{kind.code}_{suffix}" for kind in KINDS for suffix, _ in ENTERPRISE_LOGINS]
    return names


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, int | float]]) -> T:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


class DemoPlan:
    """Everything the demo generator will write, as pure specs. Each iterator starts from its own sub-seed,
    so it can be run again (or alone) and gives the same records."""

    def __init__(self, *, seed: int, scale: int, today: dt.date) -> None:
        if scale < 1:
            raise ValueError("scale must be at least 1")
        self.seed = seed
        self.scale = scale
        self.today = today
        self.ids = IdentifierFactory(seed)
        # One block of ENTERPRISES_PER_SCALE enterprises holds every kind its per_scale times; the first
        # len(KINDS) slots are one of each kind (the demo enterprises of block 0).
        slots: list[tuple[str, int]] = []
        for position in range(max(k.per_scale for k in KINDS)):
            slots += [(k.code, position) for k in KINDS if position < k.per_scale]
        self._slots = tuple(slots)
        self._district_weights = [(d.code, d.weight) for d in DISTRICTS]

    # sizes ---------------------------------------------------------------------------------------
    @property
    def enterprise_count(self) -> int:
        return ENTERPRISES_PER_SCALE * self.scale

    @property
    def person_count(self) -> int:
        return PERSONS_PER_SCALE * self.scale

    @property
    def project_count(self) -> int:
        return PROJECTS_PER_SCALE * self.scale

    def kind_count(self, kind: str) -> int:
        return KIND_BY_CODE[kind].per_scale * self.scale

    # helpers -------------------------------------------------------------------------------------
    def _streams(self, purpose: str) -> tuple[random.Random, Faker]:
        fake = Faker("zh_CN")
        fake.seed_instance(derive_seed(self.seed, f"{purpose}:faker"))
        return random.Random(derive_seed(self.seed, purpose)), fake

    def _address(self, rng: random.Random, district_code: str) -> str:
        district = DISTRICT_BY_CODE[district_code]
        place = rng.choice(district.places)
        return f"北京市{district.name}{place}{rng.choice(ROAD_SUFFIXES)}{rng.randint(1, 399)}号"

    def _landline(self, rng: random.Random) -> str:
        return f"010-{rng.randint(5, 8)}{rng.randint(0, 9_999_999):07d}"

    def _verification(
        self, rng: random.Random, item: str, *, always_confirmed: bool = False, not_before: dt.date | None = None
    ) -> VerificationSpec:
        r = rng.random()
        if always_confirmed or r < 0.65:
            status, reasons = Verdict.CONFIRMED, VERIFICATION_REASONS_CONFIRMED[item]
        elif r < 0.9:
            return VerificationSpec(str(Verdict.PENDING))
        else:
            status, reasons = Verdict.FALSE, VERIFICATION_REASONS_FALSE[item]
        day = self.today - dt.timedelta(days=rng.randint(1, 540))
        if not_before is not None:  # not verified before it existed
            day = max(day, min(not_before + dt.timedelta(days=1), self.today - dt.timedelta(days=1)))
        at = dt.datetime.combine(day, dt.time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=BEIJING)
        return VerificationSpec(str(status), rng.choice(reasons), at)

    # regulators and logins -----------------------------------------------------------------------
    def regulators(self) -> list[RegulatorSpec]:
        rng, _ = self._streams("regulators")
        specs = [
            RegulatorSpec(
                self.ids.uscc(0, CITY_ADMIN_CODE, prefix="11"),
                CITY_REGULATOR_NAME,
                OrgType.CITY_REGULATOR,
                None,
                CITY_REGULATOR_ADDRESS,
                self._landline(rng),
            )
        ]
        for i, district in enumerate(DISTRICTS, start=1):
            specs.append(
                RegulatorSpec(
                    self.ids.uscc(i, district.code, prefix="11"),
                    f"北京市{district.name}住房和城乡建设委员会",
                    OrgType.DISTRICT_REGULATOR,
                    district.code,
                    self._address(rng, district.code),
                    self._landline(rng),
                )
            )
        return specs

    def logins(self) -> list[LoginSpec]:
        rng, fake = self._streams("logins")
        slug = DISTRICT_BY_CODE[DEMO_DISTRICT_CODE].slug
        specs = [LoginSpec(u, fake.name(), r, fake.phone_number(), regulator="city") for u, r in CITY_LOGINS]
        specs += [
            LoginSpec(f"{slug}_{suffix}", fake.name(), r, fake.phone_number(), regulator=DEMO_DISTRICT_CODE)
            for suffix, r in DISTRICT_LOGINS
        ]
        specs += [
            LoginSpec(f"{kind.code}_{suffix}", fake.name(), r, fake.phone_number(), enterprise_kind=kind.code)
            for kind in KINDS
            for suffix, r in ENTERPRISE_LOGINS
        ]
        return specs

    # enterprises ---------------------------------------------------------------------------------
    def enterprises(self) -> Iterator[EnterpriseSpec]:
        rng, fake = self._streams("enterprises")
        block_size = len(self._slots)
        person_index = 0
        qualification_index = 0
        certificate_index = 0
        for index in range(self.enterprise_count):
            block, slot = divmod(index, block_size)
            kind_code, position = self._slots[slot]
            kind = KIND_BY_CODE[kind_code]
            ordinal = block * kind.per_scale + position
            demo = ordinal == 0
            district_code = DEMO_DISTRICT_CODE if demo else _weighted(rng, self._district_weights)

            line = rng.choice(PRODUCT_LINES) if kind.code == "producer" else None
            word = line.word if line else rng.choice(kind.name_words)
            brand = self._brand(rng, fake)
            pattern = rng.random()
            if pattern < 0.7:
                name = f"北京{brand}{word}有限公司"
            elif pattern < 0.85:
                name = f"北京市{brand}{word}有限责任公司"
            else:
                name = f"{brand}（北京）{word}有限公司"

            kinds = [kind.code]
            for extra, probability in kind.extra_kinds:
                if rng.random() < probability:
                    kinds.append(extra)

            qualifications = []
            templates: tuple[QualificationTemplate, ...] = kind.qualifications
            if line is not None:
                templates = (PRODUCTION_LICENCE if line.licensed else MATERIAL_FILING,)
            for template in templates:
                if template.share < 1 and rng.random() >= template.share:
                    continue
                qualifications.append(self._qualification(rng, template, qualification_index, valid=demo))
                qualification_index += 1

            capacities = [self._capacity(rng, c) for c in self._capacity_categories(kind, line)]

            persons = []
            for role in kind.roles:
                certificates: tuple[CertificateSpec, ...] = ()
                if str(role) in CERTIFICATES:
                    certificates = (self._certificate(rng, str(role), certificate_index),)
                    certificate_index += 1
                persons.append(
                    PersonSpec(
                        name=fake.name(),
                        id_number=self.ids.id_number(person_index),
                        role=str(role),
                        phone=fake.phone_number(),
                        verification=self._verification(rng, "person"),
                        certificates=certificates,
                    )
                )
                person_index += 1

            yield EnterpriseSpec(
                index=index,
                kind=kind.code,
                kind_ordinal=ordinal,
                kinds=tuple(kinds),
                # Indexes 0..len(DISTRICTS) of the USCC permutation belong to the regulators.
                uscc=self.ids.uscc(index + 1 + len(DISTRICTS), district_code),
                name=name,
                district_code=district_code,
                legal_representative=fake.name(),
                address=self._address(rng, district_code),
                phone=self._landline(rng),
                verification=self._verification(rng, "organization", always_confirmed=demo),
                qualifications=tuple(qualifications),
                capacities=tuple(capacities),
                persons=tuple(persons),
            )

    def _brand(self, rng: random.Random, fake: Faker) -> str:
        """The distinctive part of an enterprise name: a Faker company word or a two-character trade name."""
        if rng.random() < 0.3:
            return str(fake.random_element(_FAKER_BRANDS))
        first, second = rng.sample(BRAND_CHARACTERS, 2)
        return first + second

    @staticmethod
    def _capacity_categories(kind: KindInfo, line: ProductLine | None) -> tuple[str, ...]:
        if kind.code == "concrete_plant":
            return ("HNT",)
        if kind.code == "mortar_plant":
            return ("SJ",)
        if line is not None:
            return tuple(line.categories)
        return ()

    def _qualification(
        self, rng: random.Random, template: QualificationTemplate, serial: int, *, valid: bool
    ) -> QualificationSpec:
        period = dt.timedelta(days=365 * template.years)
        r = 0.0 if valid else rng.random()
        status = QualificationStatus.VALID
        if r < 0.78:  # valid and current
            valid_until = self.today + dt.timedelta(days=rng.randint(30, 365 * template.years - 30))
        elif r < 0.88:  # expired: the date has passed
            valid_until = self.today - dt.timedelta(days=rng.randint(1, 400))
        else:
            valid_until = self.today + dt.timedelta(days=rng.randint(30, 365 * template.years - 30))
            status = (
                QualificationStatus.SUSPENDED
                if r < 0.95
                else QualificationStatus.REVOKED
                if r < 0.98
                else QualificationStatus.CANCELLED
            )
        issued_on = valid_until - period
        return QualificationSpec(
            certificate_no=f"{template.prefix}{issued_on.year}{serial + 1:08d}",
            qualification_type=template.qualification_type,
            grade=rng.choice(template.grades),
            issued_on=issued_on,
            valid_until=valid_until,
            status=str(status),
            verification=self._verification(rng, "qualification", always_confirmed=valid, not_before=issued_on),
        )

    def _capacity(self, rng: random.Random, category: str) -> CapacitySpec:
        low, high = CAPACITY_RANGES[category]
        amount = rng.randint(low // 1000, high // 1000) * 1000
        return CapacitySpec(
            category=category,
            annual_capacity=Decimal(amount).quantize(Decimal("0.001")),
            unit=CATEGORY_UNITS[category],
            verification=self._verification(rng, "capacity"),
        )

    def _certificate(self, rng: random.Random, role: str, serial: int) -> CertificateSpec:
        name, prefix, years = CERTIFICATES[role]
        if years >= 99:  # titles do not expire
            issued_on = self.today - dt.timedelta(days=rng.randint(365, 365 * 20))
            return CertificateSpec(name, f"{prefix}{issued_on.year}{serial + 1:08d}", issued_on, None)
        # About one in eight certificates has lapsed.
        if rng.random() < 0.125:
            valid_until = self.today - dt.timedelta(days=rng.randint(1, 365))
        else:
            valid_until = self.today + dt.timedelta(days=rng.randint(30, 365 * years - 1))
        issued_on = valid_until - dt.timedelta(days=365 * years)
        return CertificateSpec(name, f"{prefix}{issued_on.year}{serial + 1:08d}", issued_on, valid_until)

    # projects ------------------------------------------------------------------------------------
    def projects(self) -> Iterator[ProjectSpec]:
        rng, _ = self._streams("projects")
        builders = self.kind_count("builder")
        contractors = self.kind_count("contractor")
        supervisors = self.kind_count("supervisor")
        type_weights = list(PROJECT_TYPE_WEIGHTS.items())
        per_year: dict[int, int] = {}
        for index in range(self.project_count):
            # The first projects belong to the demo builder, contractor and supervisor (ordinal 0), in 朝阳区.
            demo = index < 3
            project_type = _weighted(rng, type_weights)
            info = PROJECT_TYPES[project_type]
            district_code = DEMO_DISTRICT_CODE if demo else _weighted(rng, self._district_weights)

            r = 0.2 if demo else rng.random()
            start_date: dt.date | None
            completion_date: dt.date | None = None
            if r < 0.5:
                status = ProjectStatus.UNDER_CONSTRUCTION
                start_date = self.today - dt.timedelta(days=rng.randint(30, 1000))
            elif r < 0.55:
                status = ProjectStatus.SUSPENDED
                start_date = self.today - dt.timedelta(days=rng.randint(200, 1200))
            elif r < 0.85:
                status = ProjectStatus.COMPLETED
                duration = dt.timedelta(days=rng.randint(300, 1100))
                completion_date = self.today - dt.timedelta(days=rng.randint(1, 1500))
                start_date = completion_date - duration
            else:
                status = ProjectStatus.PLANNED
                start_date = None
            has_contractor = status != ProjectStatus.PLANNED or rng.random() < 0.6

            area = rng.randint(info.area[0] * 100, info.area[1] * 100)
            floor_area = Decimal(area) / 100
            budget = (floor_area * Decimal(str(round(rng.uniform(*info.cost), 3)))).quantize(Decimal("0.01"))
            government = project_type in GOVERNMENT_PROJECT_TYPES
            government_funded = rng.random() < (0.9 if government else 0.1)

            year = (start_date or self.today).year
            per_year[year] = per_year.get(year, 0) + 1
            place = rng.choice(DISTRICT_BY_CODE[district_code].places)
            lot = f"{rng.choice('ABCDEFGH')}{rng.randint(1, 30):02d}"
            yield ProjectSpec(
                project_code=f"BJ{year}-{per_year[year]:04d}",
                name=rng.choice(info.names).format(place=place, lot=lot),
                district_code=district_code,
                builder=0 if demo else rng.randrange(builders),
                contractor=(0 if demo else rng.randrange(contractors)) if has_contractor else None,
                supervisor=(0 if demo else rng.randrange(supervisors)) if has_contractor else None,
                floor_area=floor_area.quantize(Decimal("0.01")),
                structure_type=str(_weighted(rng, info.structures)),
                project_type=str(project_type),
                budget=budget,
                government_funded=government_funded,
                start_date=start_date,
                completion_date=completion_date,
                status=str(status),
                verification=self._verification(rng, "project", always_confirmed=demo),
            )


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


class DemoDataExists(Exception):
    """The database already holds demo data (a city regulator or a demo login)."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    organization: str
    role: str
    role_label: str
    totp_secret: str | None  # base32, for regulator logins (they must pass a second factor)
    password: str = DEMO_PASSWORD


# Keys of DemoSummary.counts with their Chinese and English labels, in display order.
COUNT_LABELS: dict[str, tuple[str, str]] = {
    "regulators": ("监管机构", "Regulators"),
    "enterprises": ("企业", "Enterprises"),
    "enterprise_kinds": ("企业类型关联", "Enterprise kind links"),
    "qualifications": ("资质证书", "Qualifications"),
    "capacities": ("产能", "Capacities"),
    "persons": ("人员", "Persons"),
    "certificates": ("人员证书", "Person certificates"),
    "projects": ("工程项目", "Projects"),
    "verifications": ("核实记录", "Verifications"),
    "users": ("用户", "Users"),
    "totp_devices": ("动态口令设备", "TOTP devices"),
    "supplies": ("供应记录", "Supplies"),
    "purchases": ("采购记录", "Purchases"),
    "test_reports": ("检测报告", "Test reports"),
    "tickets": ("发货单", "Delivery tickets"),
}


@dataclass
class DemoSummary:
    seed: int
    scale: int
    counts: dict[str, int]
    logins: list[DemoLogin]
    seconds: float = 0.0


def demo_data_exists() -> bool:
    return (
        Organization.objects.filter(org_type=OrgType.CITY_REGULATOR).exists()
        or User.objects.filter(username__in=demo_usernames()).exists()
    )


def existing_demo_logins() -> list[DemoLogin]:
    """The demo logins as they are in the database (for a second `seed_demo --if-empty`)."""
    users = {u.username: u for u in User.objects.filter(username__in=demo_usernames()).select_related("organization")}
    devices = {d.user_id: d for d in TOTPDevice.objects.filter(user__in=users.values(), confirmed=True)}
    logins = []
    for username in demo_usernames():
        user = users.get(username)
        if user is None:
            continue
        device = devices.get(user.pk)
        logins.append(
            DemoLogin(
                username=username,
                display_name=user.display_name,
                organization=user.organization.name if user.organization else "",
                role=user.role,
                role_label=Role(user.role).label,
                totp_secret=totp_secret_base32(device.key) if device else None,
            )
        )
    return logins


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def generate(
    *,
    seed: int,
    scale: int,
    today: dt.date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write the demo data of `seed` at `scale` in one transaction. Raises DemoDataExists, changing nothing,
    when the database already has a city regulator or a demo login."""
    started = time.monotonic()
    plan = DemoPlan(seed=seed, scale=scale, today=today or timezone.localdate())
    with transaction.atomic():
        if demo_data_exists():
            raise DemoDataExists("演示数据已存在（已有市住建委机构或演示账号），未做任何修改")
        writer = _Writer(plan, batch_size, progress or (lambda _message: None))
        writer.write()
        # Imported here: demo.filings builds on this module's helpers.
        from .filings import generate_filings

        writer.counts.update(generate_filings(seed=seed, today=plan.today, progress=writer.progress))
    return DemoSummary(seed, scale, dict(writer.counts), writer.logins, time.monotonic() - started)


_M = TypeVar("_M", bound=models.Model)


def _pk(item: Any) -> int:
    return int(item.pk)


def _org_id(item: Any) -> int:
    return int(item.organization_id)


class _Writer:
    def __init__(self, plan: DemoPlan, batch_size: int, progress: Callable[[str], None]) -> None:
        self.plan = plan
        self.batch_size = batch_size
        self.progress = progress
        self.now = timezone.now()
        self.uuids = random.Random(derive_seed(plan.seed, "uuids"))
        self.password_hash = make_password(DEMO_PASSWORD)
        self.counts: dict[str, int] = dict.fromkeys(COUNT_LABELS, 0)
        self.logins: list[DemoLogin] = []
        self.districts = {d.code: d.pk for d in District.objects.all()}
        self.kinds = {k.code: k.pk for k in OrganizationKind.objects.all()}
        missing = sorted({d.code for d in DISTRICTS} - set(self.districts)) + sorted(
            {k.code for k in KINDS} - set(self.kinds)
        )
        if missing:
            raise RuntimeError(f"缺少参考数据（行政区或企业类型）：{', '.join(missing)}；请先执行 migrate")
        self.content_types: dict[type[models.Model], ContentType] = {
            model: ContentType.objects.get_for_model(model)
            for model in (Organization, Qualification, Capacity, Person, Project)
        }
        self.verification_floor = Verification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.regulators: dict[str, Organization] = {}  # "city" or a district code
        self.verifiers: dict[str, User] = {}  # "city" or a district code -> its business user
        self.by_ordinal: dict[str, list[int]] = {"builder": [], "contractor": [], "supervisor": []}
        self.demo_enterprises: dict[str, Organization] = {}
        self.category_names = dict(CATEGORY_CHOICES)

    # plumbing ------------------------------------------------------------------------------------
    def _bulk(self, model: type[_M], objs: list[_M], count_key: str | None = None) -> list[_M]:
        if not objs:
            return objs
        created = model._default_manager.bulk_create(objs, batch_size=self.batch_size)
        if created[0].pk is None:  # pragma: no cover - PostgreSQL and SQLite ≥ 3.35 return keys
            raise RuntimeError("the database did not return the keys of bulk-created rows")
        if count_key:
            self.counts[count_key] += len(created)
        return created

    def _public_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.uuids.getrandbits(128), version=4)

    def _verifier(self, district_code: str | None) -> User:
        return self.verifiers.get(district_code or "", self.verifiers["city"])

    def _verify(self, obj: Any, spec: VerificationSpec, district_code: str | None) -> Verification | None:
        """Set the verification fields of a self-reported row (before it is created); for a verdict, the
        Verification row that records it (completed by _verification_rows once the item has its key)."""
        obj.verification_status = spec.status
        if spec.status == Verdict.PENDING:
            return None
        verifier = self._verifier(district_code)
        obj.verification_reason = spec.reason
        obj.verified_at = spec.verified_at
        obj.verified_by_name = verifier.display_name
        return Verification(verdict=spec.status, reason=spec.reason, verifier=verifier)

    def _verification_rows(
        self,
        model: type[models.Model],
        items: Sequence[Any],
        rows: Sequence[Verification | None],
        organization_id: Callable[[Any], int],
        describe: Callable[[Any], str] = str,
    ) -> list[Verification]:
        """Complete the Verification rows of freshly created items (now that they have keys)."""
        content_type = self.content_types[model]
        done = []
        for item, row in zip(items, rows, strict=True):
            if row is None:
                continue
            verifier = row.verifier
            if verifier is None or verifier.organization is None:  # pragma: no cover - set by _verify
                raise RuntimeError("verification without a regulator")
            row.content_type = content_type
            row.object_id = item.pk
            row.item_repr = describe(item)[:255]
            row.item_version = 1
            row.organization_id = organization_id(item)
            row.verifier_name = verifier.display_name
            row.verifier_organization_name = verifier.organization.name
            done.append(row)
        return done

    # steps ---------------------------------------------------------------------------------------
    def write(self) -> None:
        self._write_regulators()
        specs = self.plan.logins()
        self._write_users([s for s in specs if s.regulator])
        written = 0
        for chunk in chunked(self.plan.enterprises(), self.batch_size):
            self._write_enterprises(chunk)
            written += len(chunk)
            self.progress(f"企业 enterprises {written}/{self.plan.enterprise_count}")
        self._write_users([s for s in specs if s.enterprise_kind])
        written = 0
        for project_chunk in chunked(self.plan.projects(), self.batch_size):
            self._write_projects(project_chunk)
            written += len(project_chunk)
            self.progress(f"工程项目 projects {written}/{self.plan.project_count}")
        self._backdate_verifications()
        order = {s.username: i for i, s in enumerate(specs)}
        self.logins.sort(key=lambda login: order[login.username])

    def _write_regulators(self) -> None:
        orgs = [
            Organization(
                uscc=spec.uscc,
                name=spec.name,
                org_type=spec.org_type,
                district_id=self.districts[spec.district_code] if spec.district_code else None,
                address=spec.address,
                phone=spec.phone,
                verification_status=Verdict.CONFIRMED,
            )
            for spec in self.plan.regulators()
        ]
        for org, spec in zip(self._bulk(Organization, orgs, "regulators"), self.plan.regulators(), strict=True):
            self.regulators[spec.district_code or "city"] = org

    def _write_users(self, specs: list[LoginSpec]) -> None:
        users = []
        org_names = {}
        for spec in specs:
            org = (
                self.regulators[spec.regulator] if spec.regulator else self.demo_enterprises[spec.enterprise_kind or ""]
            )
            org_names[spec.username] = org.name
            users.append(
                User(
                    username=spec.username,
                    display_name=spec.display_name,
                    organization=org,
                    role=spec.role,
                    phone=spec.phone,
                    password=self.password_hash,
                    password_changed_at=self.now,
                    must_change_password=False,
                    is_active=True,
                )
            )
        users = self._bulk(User, users, "users")
        devices = []
        for user, spec in zip(users, specs, strict=True):
            secret = None
            if spec.regulator:
                key = totp_key(self.plan.seed, user.username)
                devices.append(TOTPDevice(user=user, name=TOTP_DEVICE_NAME, confirmed=True, key=key))
                secret = totp_secret_base32(key)
                if spec.role == Role.BUSINESS:
                    self.verifiers[spec.regulator] = user
            self.logins.append(
                DemoLogin(
                    username=user.username,
                    display_name=user.display_name,
                    organization=org_names[user.username],
                    role=spec.role,
                    role_label=Role(spec.role).label,
                    totp_secret=secret,
                )
            )
        self._bulk(TOTPDevice, devices, "totp_devices")

    def _write_enterprises(self, specs: list[EnterpriseSpec]) -> None:
        org_checks: list[Verification | None] = []
        orgs = []
        for spec in specs:
            org = Organization(
                uscc=spec.uscc,
                name=spec.name,
                org_type=OrgType.ENTERPRISE,
                district_id=self.districts[spec.district_code],
                legal_representative=spec.legal_representative,
                address=spec.address,
                phone=spec.phone,
            )
            org_checks.append(self._verify(org, spec.verification, spec.district_code))
            orgs.append(org)
        orgs = self._bulk(Organization, orgs, "enterprises")
        verifications = self._verification_rows(Organization, orgs, org_checks, _pk)
        org_names = {org.pk: org.name for org in orgs}

        through = Organization.kinds.through
        links = []
        qualifications: list[Qualification] = []
        qualification_checks: list[Verification | None] = []
        capacities: list[Capacity] = []
        capacity_checks: list[Verification | None] = []
        persons: list[Person] = []
        person_checks: list[Verification | None] = []
        person_specs: list[PersonSpec] = []
        for org, spec in zip(orgs, specs, strict=True):
            if spec.kind in self.by_ordinal:
                ordinals = self.by_ordinal[spec.kind]
                if len(ordinals) != spec.kind_ordinal:  # pragma: no cover - guaranteed by DemoPlan.enterprises
                    raise RuntimeError(f"{spec.kind} ordinals out of order")
                ordinals.append(org.pk)
            if spec.is_demo:
                self.demo_enterprises[spec.kind] = org
            links += [through(organization_id=org.pk, organizationkind_id=self.kinds[k]) for k in spec.kinds]
            for q in spec.qualifications:
                qualification = Qualification(
                    organization_id=org.pk,
                    certificate_no=q.certificate_no,
                    qualification_type=q.qualification_type,
                    grade=q.grade,
                    issued_on=q.issued_on,
                    valid_until=q.valid_until,
                    status=q.status,
                )
                qualification_checks.append(self._verify(qualification, q.verification, spec.district_code))
                qualifications.append(qualification)
            for c in spec.capacities:
                capacity = Capacity(
                    public_id=self._public_id(),
                    organization_id=org.pk,
                    category=c.category,
                    annual_capacity=c.annual_capacity,
                    unit=c.unit,
                )
                capacity_checks.append(self._verify(capacity, c.verification, spec.district_code))
                capacities.append(capacity)
            for p in spec.persons:
                person = Person(
                    public_id=self._public_id(),
                    organization_id=org.pk,
                    name=p.name,
                    id_number_encrypted=encrypt_text(p.id_number),
                    id_number_digest=lookup_digest(p.id_number),
                    id_number_masked=mask_id_number(p.id_number),
                    role=p.role,
                    phone=p.phone,
                )
                person_checks.append(self._verify(person, p.verification, spec.district_code))
                persons.append(person)
                person_specs.append(p)

        self._bulk(through, links, "enterprise_kinds")
        qualifications = self._bulk(Qualification, qualifications, "qualifications")
        verifications += self._verification_rows(Qualification, qualifications, qualification_checks, _org_id)
        capacities = self._bulk(Capacity, capacities, "capacities")
        verifications += self._verification_rows(
            Capacity,
            capacities,
            capacity_checks,
            _org_id,
            lambda c: f"{org_names[c.organization_id]} {self.category_names[c.category]} {c.annual_capacity}{c.unit}",
        )
        persons = self._bulk(Person, persons, "persons")
        verifications += self._verification_rows(Person, persons, person_checks, _org_id)
        certificates = [
            PersonCertificate(
                person_id=person.pk,
                name=c.name,
                certificate_no=c.certificate_no,
                issued_on=c.issued_on,
                valid_until=c.valid_until,
            )
            for person, p in zip(persons, person_specs, strict=True)
            for c in p.certificates
        ]
        self._bulk(PersonCertificate, certificates, "certificates")
        self._bulk(Verification, verifications, "verifications")

    def _write_projects(self, specs: list[ProjectSpec]) -> None:
        projects = []
        checks: list[Verification | None] = []
        for spec in specs:
            project = Project(
                project_code=spec.project_code,
                name=spec.name,
                district_id=self.districts[spec.district_code],
                builder_id=self.by_ordinal["builder"][spec.builder],
                contractor_id=None if spec.contractor is None else self.by_ordinal["contractor"][spec.contractor],
                supervisor_id=None if spec.supervisor is None else self.by_ordinal["supervisor"][spec.supervisor],
                floor_area=spec.floor_area,
                structure_type=spec.structure_type,
                project_type=spec.project_type,
                budget=spec.budget,
                government_funded=spec.government_funded,
                start_date=spec.start_date,
                completion_date=spec.completion_date,
                status=spec.status,
            )
            checks.append(self._verify(project, spec.verification, spec.district_code))
            projects.append(project)
        projects = self._bulk(Project, projects, "projects")
        self._bulk(
            Verification, self._verification_rows(Project, projects, checks, lambda p: p.builder_id), "verifications"
        )

    def _backdate_verifications(self) -> None:
        """Verification.created_at is auto_now_add; give the demo verdicts the time of the item's verdict."""
        for model, content_type in self.content_types.items():
            verified_at = model._default_manager.filter(pk=OuterRef("object_id")).values("verified_at")[:1]
            Verification.objects.filter(pk__gt=self.verification_floor, content_type=content_type).update(
                created_at=Subquery(verified_at)
            )
