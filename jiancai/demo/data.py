"""Static tables the demo generator draws from: Beijing places, enterprise kinds, qualifications, projects."""

from __future__ import annotations

from dataclasses import dataclass

from jiancai.registry.models import PersonRole, ProjectType, StructureType


@dataclass(frozen=True)
class DistrictInfo:
    code: str
    name: str
    slug: str  # pinyin, used in demo usernames (chaoyang_business)
    weight: int  # share of enterprises and projects
    places: tuple[str, ...]  # real place names, for addresses and project names


# The 16 districts of migration accounts/0002_reference_data (GB/T 2260 codes).
DISTRICTS: tuple[DistrictInfo, ...] = (
    DistrictInfo("110101", "东城区", "dongcheng", 3, ("东直门", "王府井", "崇文门", "和平里", "东四", "天坛")),
    DistrictInfo("110102", "西城区", "xicheng", 3, ("西直门", "德胜门", "金融街", "广安门", "月坛", "展览路")),
    DistrictInfo(
        "110105",
        "朝阳区",
        "chaoyang",
        12,
        ("望京", "酒仙桥", "三里屯", "双井", "劲松", "大屯", "来广营", "十八里店", "将台", "东坝"),
    ),
    DistrictInfo("110106", "丰台区", "fengtai", 8, ("丰台科技园", "卢沟桥", "花乡", "方庄", "宛平", "青塔")),
    DistrictInfo("110107", "石景山区", "shijingshan", 3, ("八角", "古城", "鲁谷", "苹果园", "金顶街")),
    DistrictInfo(
        "110108", "海淀区", "haidian", 10, ("中关村", "上地", "西三旗", "清河", "四季青", "温泉", "苏家坨", "学院路")
    ),
    DistrictInfo("110109", "门头沟区", "mentougou", 2, ("永定", "大峪", "龙泉", "潭柘寺")),
    DistrictInfo("110111", "房山区", "fangshan", 6, ("良乡", "长阳", "窦店", "阎村", "燕山")),
    DistrictInfo("110112", "通州区", "tongzhou", 8, ("梨园", "宋庄", "潞城", "台湖", "马驹桥", "永顺")),
    DistrictInfo("110113", "顺义区", "shunyi", 6, ("后沙峪", "天竺", "南法信", "杨镇", "马坡")),
    DistrictInfo("110114", "昌平区", "changping", 7, ("回龙观", "天通苑", "沙河", "北七家", "南口", "小汤山")),
    DistrictInfo("110115", "大兴区", "daxing", 8, ("亦庄", "黄村", "西红门", "旧宫", "瀛海", "礼贤")),
    DistrictInfo("110116", "怀柔区", "huairou", 2, ("雁栖", "杨宋", "庙城", "桥梓")),
    DistrictInfo("110117", "平谷区", "pinggu", 2, ("马坊", "峪口", "兴谷", "东高村")),
    DistrictInfo("110118", "密云区", "miyun", 2, ("檀营", "溪翁庄", "穆家峪", "西田各庄")),
    DistrictInfo("110119", "延庆区", "yanqing", 2, ("康庄", "八达岭", "旧县", "永宁")),
)
DISTRICT_BY_CODE = {d.code: d for d in DISTRICTS}
CITY_ADMIN_CODE = "110000"
DEMO_DISTRICT_CODE = "110105"  # 朝阳区: its regulator gets demo logins, and the demo enterprises sit there

# Characters Chinese trade names are commonly made of; two of them make a brand (宏达, 鑫盛, 京联…).
BRAND_CHARACTERS = tuple(
    "宏达鑫盛华泰中建联恒通信诚元隆兴润嘉博瑞安永鼎凯金城远方正天海丰源祥福利合众欣万国京燕首业宇顺腾荣昌立新创力久"
    "益卓越美辉明光德成广厚坤豪峰晟铭航"
)
ROAD_SUFFIXES = ("路", "街", "南路", "北路", "东路", "西路", "大街", "中路")


@dataclass(frozen=True)
class QualificationTemplate:
    qualification_type: str
    grades: tuple[str, ...]
    prefix: str  # certificate number prefix
    years: int  # validity period
    share: float = 1.0  # share of the kind's enterprises holding it


@dataclass(frozen=True)
class ProductLine:
    """What a producer makes: its name word, capacity categories and production licence."""

    word: str
    categories: tuple[str, ...]
    licensed: bool  # 全国工业产品生产许可证 rather than 建材备案证


PRODUCT_LINES: tuple[ProductLine, ...] = (
    ProductLine("钢铁", ("GJ", "XG"), True),
    ProductLine("钢结构", ("XG",), False),
    ProductLine("水泥", ("SN",), True),
    ProductLine("砂石", ("SS",), False),
    ProductLine("新型墙体材料", ("QT",), False),
    ProductLine("建筑构件", ("YZ", "QT"), False),
    ProductLine("防水材料", ("FS",), True),
    ProductLine("保温材料", ("BW",), False),
    ProductLine("门窗", ("MC",), False),
    ProductLine("管业", ("GC",), False),
    ProductLine("电线电缆", ("DL",), True),
    ProductLine("涂料", ("TL",), False),
)

PRODUCTION_LICENCE = QualificationTemplate("全国工业产品生产许可证", ("",), "XK", 5)
MATERIAL_FILING = QualificationTemplate("建材备案证", ("",), "JCBA", 5)


@dataclass(frozen=True)
class KindInfo:
    code: str  # OrganizationKind.code
    per_scale: int  # enterprises of this (primary) kind per unit of scale
    roles: tuple[str, ...]  # one person per entry
    name_words: tuple[str, ...]  # business word in the enterprise name
    qualifications: tuple[QualificationTemplate, ...]
    extra_kinds: tuple[tuple[str, float], ...] = ()  # (kind code, probability) of a secondary kind


KINDS: tuple[KindInfo, ...] = (
    KindInfo(
        "producer",
        4,
        (PersonRole.TECHNICAL_LEAD, PersonRole.QUALITY_INSPECTOR),
        (),  # from the product line
        (),  # from the product line
        (("supplier", 0.5),),
    ),
    KindInfo("supplier", 4, (PersonRole.MATERIAL_CLERK,), ("建材", "建筑材料", "物资", "建材贸易"), (MATERIAL_FILING,)),
    KindInfo(
        "concrete_plant",
        3,
        (PersonRole.TECHNICAL_LEAD, PersonRole.QUALITY_INSPECTOR),
        ("混凝土", "商品混凝土", "建材混凝土"),
        (QualificationTemplate("预拌混凝土专业承包", ("不分等级",), "D3", 5),),
        (("transport", 0.2),),
    ),
    KindInfo(
        "mortar_plant",
        2,
        (PersonRole.TECHNICAL_LEAD,),
        ("砂浆", "干混砂浆", "新型建材"),
        (QualificationTemplate("预拌砂浆生产备案", ("",), "SJBA", 3),),
    ),
    KindInfo(
        "contractor",
        5,
        (PersonRole.PROJECT_MANAGER, PersonRole.MATERIAL_CLERK, PersonRole.QUALITY_INSPECTOR, PersonRole.SAMPLER),
        ("建设工程", "建筑工程", "建工集团", "城建工程", "市政建设"),
        (
            QualificationTemplate("建筑工程施工总承包", ("特级", "一级", "二级", "三级"), "D2", 5),
            QualificationTemplate("安全生产许可证", ("",), "AX", 3, 0.6),
        ),
    ),
    KindInfo(
        "builder",
        5,
        (PersonRole.OTHER,),
        ("房地产开发", "置业", "城市建设开发", "城市更新"),
        (QualificationTemplate("房地产开发企业资质", ("一级", "二级"), "FK", 3),),
    ),
    KindInfo(
        "supervisor",
        3,
        (PersonRole.CHIEF_SUPERVISOR, PersonRole.SUPERVISOR_ENGINEER, PersonRole.WITNESS),
        ("工程监理", "建设监理", "工程咨询"),
        (QualificationTemplate("房屋建筑工程监理", ("甲级", "乙级"), "E1", 5),),
    ),
    KindInfo(
        "laboratory",
        2,
        (PersonRole.TESTER, PersonRole.TESTER, PersonRole.TECHNICAL_LEAD),
        ("建设工程质量检测", "建筑材料检测", "工程检测"),
        (QualificationTemplate("建设工程质量检测机构资质", ("综合类", "专项"), "JC", 5),),
    ),
    KindInfo(
        "transport",
        1,
        (PersonRole.OTHER,),
        ("运输", "物流", "渣土运输"),
        (QualificationTemplate("道路运输经营许可证", ("",), "JT", 4),),
    ),
    KindInfo(
        "ecommerce",
        1,
        (PersonRole.OTHER,),
        ("电子商务", "供应链科技", "建材网络科技"),
        (QualificationTemplate("增值电信业务经营许可证", ("",), "ICP", 5),),
    ),
)
KIND_BY_CODE = {k.code: k for k in KINDS}

# Annual capacity range per category, in the category's unit (CATEGORY_UNITS).
CAPACITY_RANGES: dict[str, tuple[int, int]] = {
    "GJ": (50_000, 2_000_000),
    "XG": (20_000, 500_000),
    "SN": (500_000, 5_000_000),
    "HNT": (200_000, 1_200_000),
    "SJ": (100_000, 600_000),
    "SS": (300_000, 3_000_000),
    "QT": (50_000, 500_000),
    "FS": (1_000_000, 20_000_000),
    "BW": (20_000, 300_000),
    "MC": (20_000, 300_000),
    "GC": (1_000_000, 50_000_000),
    "TL": (5_000, 100_000),
    "YZ": (20_000, 300_000),
    "DL": (1_000_000, 100_000_000),
}

# Person certificates by role: (certificate name, number prefix, validity years).
CERTIFICATES: dict[str, tuple[str, str, int]] = {
    PersonRole.PROJECT_MANAGER: ("一级注册建造师注册证书", "京111", 5),
    PersonRole.CHIEF_SUPERVISOR: ("注册监理工程师注册执业证书", "JL", 4),
    PersonRole.SUPERVISOR_ENGINEER: ("注册监理工程师注册执业证书", "JL", 4),
    PersonRole.TESTER: ("建设工程质量检测人员岗位证书", "JCRY", 5),
    PersonRole.WITNESS: ("见证取样人员岗位证书", "JZQY", 5),
    PersonRole.SAMPLER: ("见证取样人员岗位证书", "JZQY", 5),
    PersonRole.MATERIAL_CLERK: ("施工现场专业人员岗位证书（材料员）", "CLY", 5),
    PersonRole.QUALITY_INSPECTOR: ("施工现场专业人员岗位证书（质量员）", "ZLY", 5),
    PersonRole.TECHNICAL_LEAD: ("工程师职称证书", "GCS", 99),
}

PROJECT_TYPE_WEIGHTS: dict[str, int] = {
    ProjectType.RESIDENTIAL: 30,
    ProjectType.AFFORDABLE_HOUSING: 12,
    ProjectType.OFFICE: 12,
    ProjectType.COMMERCIAL: 8,
    ProjectType.SCHOOL: 10,
    ProjectType.HOSPITAL: 6,
    ProjectType.EXHIBITION: 2,
    ProjectType.STADIUM: 2,
    ProjectType.MUNICIPAL: 10,
    ProjectType.OTHER: 8,
}
GOVERNMENT_PROJECT_TYPES = frozenset(
    {
        ProjectType.SCHOOL,
        ProjectType.HOSPITAL,
        ProjectType.AFFORDABLE_HOUSING,
        ProjectType.MUNICIPAL,
        ProjectType.EXHIBITION,
        ProjectType.STADIUM,
    }
)


@dataclass(frozen=True)
class ProjectTypeInfo:
    area: tuple[int, int]  # floor area range, m²
    cost: tuple[float, float]  # investment per m², 万元
    structures: tuple[tuple[str, int], ...]  # (structure type, weight)
    names: tuple[str, ...]  # name templates; {place} and {lot}


PROJECT_TYPES: dict[str, ProjectTypeInfo] = {
    ProjectType.RESIDENTIAL: ProjectTypeInfo(
        (20_000, 250_000),
        (0.35, 0.6),
        ((StructureType.SHEAR_WALL, 6), (StructureType.FRAME_SHEAR_WALL, 3), (StructureType.MASONRY, 1)),
        ("{place}{lot}地块商品住宅项目", "{place}{lot}地块住宅及配套工程", "{place}棚户区改造住宅项目"),
    ),
    ProjectType.AFFORDABLE_HOUSING: ProjectTypeInfo(
        (30_000, 300_000),
        (0.3, 0.45),
        ((StructureType.SHEAR_WALL, 7), (StructureType.FRAME_SHEAR_WALL, 2)),
        ("{place}{lot}地块公共租赁住房项目", "{place}定向安置房项目", "{place}共有产权住房项目"),
    ),
    ProjectType.OFFICE: ProjectTypeInfo(
        (10_000, 120_000),
        (0.5, 0.9),
        ((StructureType.FRAME_CORE_TUBE, 5), (StructureType.FRAME_SHEAR_WALL, 3), (StructureType.FRAME, 2)),
        ("{place}{lot}地块商务办公楼项目", "{place}科技研发楼工程", "{place}综合办公楼新建工程"),
    ),
    ProjectType.COMMERCIAL: ProjectTypeInfo(
        (50_000, 400_000),
        (0.6, 1.1),
        ((StructureType.FRAME_CORE_TUBE, 4), (StructureType.FRAME, 4), (StructureType.STEEL, 1)),
        ("{place}商业综合体项目", "{place}{lot}地块商业金融用地项目"),
    ),
    ProjectType.SCHOOL: ProjectTypeInfo(
        (8_000, 60_000),
        (0.45, 0.7),
        ((StructureType.FRAME, 7), (StructureType.FRAME_SHEAR_WALL, 2)),
        ("{place}中学新建工程", "{place}小学改扩建工程", "{place}幼儿园新建工程", "{place}九年一贯制学校工程"),
    ),
    ProjectType.HOSPITAL: ProjectTypeInfo(
        (20_000, 150_000),
        (0.7, 1.2),
        ((StructureType.FRAME, 5), (StructureType.FRAME_SHEAR_WALL, 4)),
        ("{place}社区卫生服务中心新建工程", "{place}医院门急诊楼扩建工程", "{place}康复医院新建工程"),
    ),
    ProjectType.EXHIBITION: ProjectTypeInfo(
        (10_000, 100_000),
        (0.8, 1.3),
        ((StructureType.STEEL, 6), (StructureType.FRAME, 3)),
        ("{place}文化展览馆新建工程", "{place}规划展览馆工程"),
    ),
    ProjectType.STADIUM: ProjectTypeInfo(
        (10_000, 80_000),
        (0.6, 1.1),
        ((StructureType.STEEL, 6), (StructureType.FRAME, 3)),
        ("{place}全民健身中心工程", "{place}体育馆新建工程"),
    ),
    ProjectType.MUNICIPAL: ProjectTypeInfo(
        (1_000, 20_000),
        (0.4, 0.9),
        ((StructureType.OTHER, 6), (StructureType.FRAME, 3)),
        ("{place}路道路改造工程", "{place}再生水厂升级改造工程", "{place}综合管廊工程", "{place}公交场站工程"),
    ),
    ProjectType.OTHER: ProjectTypeInfo(
        (2_000, 30_000),
        (0.3, 0.6),
        ((StructureType.FRAME, 4), (StructureType.MASONRY, 2), (StructureType.STEEL, 2), (StructureType.OTHER, 2)),
        ("{place}配套服务设施工程", "{place}物流仓储用房项目", "{place}{lot}地块配套公建项目"),
    ),
}

VERIFICATION_REASONS_CONFIRMED: dict[str, tuple[str, ...]] = {
    "organization": ("与营业执照信息一致", "经现场核查，注册地址及经营情况属实"),
    "qualification": ("经核对证书原件及发证机关系统，信息属实", "与资质证书原件一致"),
    "capacity": ("经现场核查，生产线及设备与申报产能相符", "与环评批复产能一致"),
    "person": ("经核对身份证件及社保缴纳记录，信息属实", "人员证书经查验属实"),
    "project": ("与施工许可证信息一致", "经核对规划许可及施工许可，信息属实"),
}
VERIFICATION_REASONS_FALSE: dict[str, tuple[str, ...]] = {
    "organization": ("注册地址与实际经营地址不符", "法定代表人信息与营业执照不一致"),
    "qualification": ("证书编号在发证机关系统中查询不到", "资质等级与证书原件不符"),
    "capacity": ("申报产能超过现场核查的实际生产能力", "申报的生产线已停产"),
    "person": ("人员社保缴纳单位与申报企业不一致", "人员身份证件信息与申报不符"),
    "project": ("建筑面积与施工许可证记载不一致", "开工日期与施工许可证记载不符"),
}
