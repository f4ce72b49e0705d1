"""The demo county's fixed facts: towns, communities, compounds and member units.

Shaped on the island county of the source article: 155 buildings in unmanaged open
compounds, 14 member units, 43 owners' committees and 49 joint party branches. Everything
but the county, its towns, 育才新村 and the member units named in the article is invented.
"""

from __future__ import annotations

COUNTY = ("330921", "岱山县")

# town code, town name, [(community name, [(compound name, buildings, year built), ...]), ...]
TOWNS: list[tuple[str, str, list[tuple[str, list[tuple[str, int, int]]]]]] = [
    (
        "330921100",
        "高亭镇",
        [
            (
                "南峰社区",
                [
                    ("育才新村", 6, 1986),
                    ("南峰小区", 4, 1992),
                    ("人民路小区", 3, 1989),
                    ("渔港新村", 5, 1994),
                    ("文峰小区", 4, 1997),
                ],
            ),
            (
                "大峧社区",
                [
                    ("大峧小区", 4, 1991),
                    ("东海新村", 3, 1988),
                    ("长河路小区", 3, 1995),
                    ("北峰小区", 2, 1990),
                    ("环城小区", 4, 1998),
                ],
            ),
            (
                "山外社区",
                [("山外新村", 5, 1987), ("沙涂小区", 3, 1993), ("鱼山小区", 2, 1996), ("塘墩小区", 3, 1992)],
            ),
            (
                "官山社区",
                [("官山小区", 4, 1990), ("机关宿舍", 2, 1985), ("粮站宿舍", 2, 1984), ("供销小区", 3, 1989)],
            ),
            (
                "蓬莱社区",
                [
                    ("蓬莱新村", 5, 1995),
                    ("海洋小区", 3, 1999),
                    ("文化路小区", 3, 1991),
                    ("新道头小区", 3, 1993),
                ],
            ),
        ],
    ),
    (
        "330921101",
        "东沙镇",
        [
            (
                "东沙社区",
                [
                    ("东沙老街小区", 4, 1983),
                    ("泥峙小区", 3, 1990),
                    ("桥头小区", 3, 1992),
                    ("横街小区", 2, 1987),
                ],
            ),
        ],
    ),
    (
        "330921102",
        "岱东镇",
        [
            (
                "龙头社区",
                [("龙头小区", 3, 1994), ("北峰新村", 3, 1996), ("沙洋小区", 3, 1991), ("鹿栏小区", 2, 1989)],
            ),
        ],
    ),
    (
        "330921103",
        "岱西镇",
        [
            (
                "双峰社区",
                [
                    ("双峰小区", 4, 1993),
                    ("摇星浦小区", 3, 1990),
                    ("青黑小区", 2, 1988),
                    ("岱西新村", 3, 1997),
                ],
            ),
        ],
    ),
    (
        "330921104",
        "长涂镇",
        [
            (
                "倭井潭社区",
                [
                    ("倭井潭小区", 3, 1992),
                    ("小长涂小区", 3, 1989),
                    ("港南小区", 3, 1995),
                    ("长涂渔民新村", 4, 1998),
                ],
            ),
        ],
    ),
    (
        "330921105",
        "衢山镇",
        [
            ("岛斗社区", [("岛斗小区", 4, 1993), ("凉峙小区", 3, 1990), ("衢山渔港新村", 4, 1996)]),
            ("衢港社区", [("衢港小区", 3, 1994), ("万良小区", 3, 1991), ("黄泽小区", 3, 1988)]),
        ],
    ),
    (
        "330921200",
        "秀山乡",
        [
            (
                "秀山社区",
                [("秀山新村", 3, 1995), ("北浦小区", 3, 1992), ("兰秀小区", 2, 1990), ("秀东小区", 3, 1997)],
            ),
        ],
    ),
]

# Compounds with a property-management company: in the registry, outside the campaign.
MANAGED = [
    ("南峰社区", "金海湾花园", 6, 2012),
    ("蓬莱社区", "蓬莱华庭", 5, 2015),
    ("东沙社区", "东沙绿苑", 4, 2010),
]

# Deliberate gaps so the campaign page has work to show.
NO_BRANCH = {"鹿栏小区", "黄泽小区"}
STAND_IN = {
    "机关宿舍": "residents_committee",
    "粮站宿舍": "residents_committee",
    "横街小区": "management_committee",
}
NO_COMMITTEE = {"青黑小区", "兰秀小区"}
TWO_BRANCHES = {"育才新村", "渔港新村", "山外新村"}
NO_GRID = {"秀东小区"}
PARTIAL_POSTERS = {"凉峙小区": 1, "港南小区": 2}  # buildings still without a QR poster
UNSTAFFED_GRID = ("衢港社区", 2)  # community, grid number with no grid worker
DEVELOPER_COMPOUND = "海洋小区"
DEVELOPER_NAME = "岱山县海洋房地产开发有限公司"

CATEGORIES: list[tuple[str, str, str | None]] = [
    ("environment", "环境卫生", None),
    ("garbage", "垃圾清运", "environment"),
    ("greening", "绿化养护", "environment"),
    ("stray_animals", "流浪动物", "environment"),
    ("parking", "停车管理", None),
    ("lighting", "路灯照明", None),
    ("utilities", "水电气", None),
    ("power", "电力设施", "utilities"),
    ("water", "供水", "utilities"),
    ("gas", "燃气", "utilities"),
    ("telecom", "通信线路", None),
    ("roads", "道路设施", None),
    ("safety", "治安消防", None),
    ("fire", "消防安全", "safety"),
    ("public_security", "治安", "safety"),
    ("disputes", "邻里纠纷", None),
    ("facilities", "公共设施", None),
    ("building_repair", "房屋维修", "facilities"),
    ("drainage", "排水管道", "facilities"),
    ("stairwell", "楼道照明与单元门", "facilities"),
    ("illegal_construction", "违章搭建", None),
    ("market", "市场秩序", None),
    ("typhoon", "防台防汛", None),
    ("welfare", "民政救助", None),
]

# code, name, public phone, categories handled
MEMBER_UNITS: list[tuple[str, str, str, list[str]]] = [
    ("MU01", "县住建局", "0580-4472301", ["building_repair", "facilities", "typhoon"]),
    (
        "MU02",
        "县综合行政执法局",
        "0580-4472302",
        ["illegal_construction", "parking", "garbage", "stray_animals"],
    ),
    ("MU03", "国网岱山县供电公司", "0580-4472303", ["power", "lighting"]),
    ("MU04", "县自来水公司", "0580-4472304", ["water", "drainage"]),
    ("MU05", "县燃气公司", "0580-4472305", ["gas"]),
    ("MU06", "中国电信岱山分公司", "0580-4472306", ["telecom"]),
    ("MU07", "中国移动岱山分公司", "0580-4472307", ["telecom"]),
    ("MU08", "县公安局高亭派出所", "0580-4472308", ["public_security", "parking", "disputes"]),
    ("MU09", "县市场监管局", "0580-4472309", ["market"]),
    ("MU10", "县消防救援大队", "0580-4472310", ["fire"]),
    ("MU11", "县交通运输局", "0580-4472311", ["roads"]),
    ("MU12", "岱山县安澜城投集团", "0580-4472312", ["roads", "facilities", "greening"]),
    ("MU13", "高亭镇人民政府", "0580-4472313", ["environment", "disputes", "stairwell"]),
    ("MU14", "县民政局", "0580-4472314", ["welfare"]),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭"
    "曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢傅钟姜崔"
)
GIVEN = (
    "志国建华明伟海军平英芳兰秀美丽强军勇杰涛斌波宁霞红玲静敏燕萍洁雪"
    "琴云峰磊鹏飞亮宏荣春桂凤珍玉梅德福永祥龙渔舟岱山"
)

# Time limits: code, name, hours to sign for, hours to resolve (DOMAIN §4 defaults).
TIME_LIMITS: list[tuple[str, str, int, int]] = [
    ("emergency", "紧急", 1, 2),
    ("utilities", "水电气", 4, 24),
    ("general", "一般", 24, 7 * 24),
    ("complex", "复杂", 48, 15 * 24),
]

# category: time limit, photo required, lead unit, co-units (county-wide default rule)
TICKET_ROUTING: dict[str, tuple[str, bool, str, list[str]]] = {
    "environment": ("general", False, "MU13", []),
    "garbage": ("general", True, "MU02", ["MU13"]),
    "greening": ("general", False, "MU12", []),
    "stray_animals": ("general", False, "MU02", []),
    "parking": ("general", False, "MU08", ["MU02"]),
    "lighting": ("general", True, "MU03", ["MU12"]),
    "utilities": ("utilities", False, "MU13", []),
    "power": ("utilities", False, "MU03", []),
    "water": ("utilities", False, "MU04", []),
    "gas": ("utilities", False, "MU05", []),
    "telecom": ("general", False, "MU06", ["MU07"]),
    "roads": ("general", True, "MU11", ["MU12"]),
    "safety": ("general", False, "MU08", []),
    "fire": ("emergency", False, "MU10", ["MU13"]),
    "public_security": ("general", False, "MU08", []),
    "disputes": ("general", False, "MU13", ["MU08"]),
    "facilities": ("complex", False, "MU12", ["MU01"]),
    "building_repair": ("complex", True, "MU01", ["MU12"]),
    "drainage": ("general", True, "MU04", ["MU12"]),
    "stairwell": ("general", False, "MU13", []),
    "illegal_construction": ("complex", True, "MU02", ["MU01"]),
    "market": ("general", False, "MU09", []),
    "typhoon": ("emergency", False, "MU01", ["MU13"]),
    "welfare": ("general", False, "MU14", []),
}
# Rules for one town that differ from the county default: town code, category, lead, co-units.
TOWN_ROUTING: list[tuple[str, str, str, list[str]]] = [
    ("330921100", "power", "MU03", ["MU13", "MU11"]),
]
# Extra questions asked for a category (Open311 attributes).
CATEGORY_QUESTIONS: dict[str, list[tuple[str, str, str, bool, list[tuple[str, str]]]]] = {
    "lighting": [
        (
            "fixture",
            "哪种灯？",
            "singlevaluelist",
            True,
            [("street", "路灯"), ("stair", "楼道灯"), ("yard", "庭院灯")],
        ),
    ],
    "power": [
        (
            "hazard",
            "是否有安全隐患（如电线垂落、电杆倾斜）？",
            "singlevaluelist",
            True,
            [("yes", "有"), ("no", "没有")],
        ),
    ],
    "garbage": [("bins", "涉及几个垃圾桶？", "number", False, [])],
}
