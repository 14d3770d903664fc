"""Seed 004's 2010 (precast: 2008) inputs, in its own units (万吨, 万立方米), as a regulator enters them."""

from decimal import Decimal

SEED_2010 = {
    "cement_used": Decimal("2439.1"),  # 全市水泥使用量2439.1万吨
    "bulk_cement_used": Decimal("1904.8"),  # 其中散装水泥使用量为1904.8万吨
    "concrete_capacity": Decimal("10480"),  # 年生产能力10480万立方米
    "concrete_supplied": Decimal("4986"),  # 2010年供应预拌混凝土4986万立方米
    "dry_mortar_capacity": Decimal("185"),  # 年产能为185万吨
    "dry_mortar_output": Decimal("28.8"),  # 实际年产量为28.8万吨
    "mortar_demand": Decimal("585"),  # 预拌砂浆需求量为585万吨
    "mortar_used": Decimal("166.5"),  # 实际使用量为166.5万吨
    "wet_mortar_used": Decimal("67.8"),  # 预拌湿砂浆为67.8万吨
    "precast_capacity": Decimal("345"),  # 总生产能力345万立方米 (2008)
    "precast_output": Decimal("140"),  # 总产量140万立方米 (2008)
    "cement_capacity": Decimal("1000"),  # 年产能为1000万吨
}
