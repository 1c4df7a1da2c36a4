"""The demo world as data: sources, segments, themes, planted trends, names and fixed values.

Everything the generator draws from lives here (phrases in `phrases_a/b/c`), so changing
the demo story means editing data, not code. Weekly counts are given for the default
volume of 500 items a week and scale with `n_items / weeks`.
"""

from __future__ import annotations

from flows.devtools.demo.phrases_a import PHRASES_A
from flows.devtools.demo.phrases_b import PHRASES_B
from flows.devtools.demo.phrases_c import PHRASES_C

# source name in chorus.yaml -> (source kind, share of the base volume)
SOURCES: dict[str, tuple[str, float]] = {
    "support_tickets": ("support", 0.35),
    "app_store_reviews": ("review", 0.20),
    "nps_survey": ("survey", 0.20),
    "testflight_beta": ("beta", 0.10),
    "sales_notes": ("internal", 0.10),
    "meeting_notes": ("notes", 0.05),
}
KIND_TO_SOURCE = {kind: name for name, (kind, _) in SOURCES.items()}
KINDS = tuple(kind for kind, _ in SOURCES.values())
BASE_WEEKLY_ITEMS = 500
NOISE_SHARE = {"support": 0.06, "review": 0.07, "survey": 0.08, "beta": 0.05, "internal": 0.01}

PLANS = ("free", "pro", "business", "enterprise")
PLAN_SHARE = (0.35, 0.30, 0.22, 0.13)
ARR_RANGE = {"free": (0, 0), "pro": (1_200, 14_000), "business": (18_000, 95_000),
             "enterprise": (120_000, 950_000)}  # fmt: skip
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_SHARE = (0.45, 0.32, 0.15, 0.08)
LIFECYCLES = ("trial", "onboarding", "active", "at_risk", "churned")
PERSONAS = ("admin", "developer", "analyst", "executive", "end_user")
PERSONA_SHARE = (0.18, 0.17, 0.30, 0.10, 0.25)
# how much feedback an account produces, relative to a pro account
PLAN_ACTIVITY = {"free": 0.5, "pro": 1.0, "business": 2.0, "enterprise": 3.5}
LIFECYCLE_ACTIVITY = {"trial": 0.8, "onboarding": 1.3, "active": 1.0, "at_risk": 1.2,
                      "churned": 0.25}  # fmt: skip
# which plans each source hears from (multiplies activity); reviews have no account
SOURCE_PLAN_REACH = {
    "support": {"free": 0.6, "pro": 1.0, "business": 1.0, "enterprise": 1.0},
    "survey": {"free": 1.0, "pro": 1.0, "business": 0.8, "enterprise": 0.7},
    "beta": {"free": 0.2, "pro": 1.0, "business": 1.0, "enterprise": 0.8},
    "internal": {"free": 0.0, "pro": 0.3, "business": 1.0, "enterprise": 1.6},
    "notes": {"free": 0.0, "pro": 0.2, "business": 1.0, "enterprise": 1.8},
}
SEGMENTS = {
    "enterprise": {"plan": "enterprise"},
    "mid_market": {"plan": "business"},
    "smb": {"plan": "pro"},
    "free": {"plan": ["free", None]},
    "emea": {"region": "EMEA"},
}

# theme -> label, keywords, sentiment (neg|req|pos), weights per source kind
# (support, review, survey, beta, internal, notes) for the stable themes, plan affinity
# (free, pro, business, enterprise) and ticket tags. Planted themes have weight 0: their
# items come only from the schedules in PLANTED.
THEMES: dict[str, dict] = {
    "slow_dashboards": dict(label="Slow dashboards", sentiment="neg",
        keywords=["slow", "dashboard", "load", "performance"],
        weights=(10, 8, 8, 6, 3, 8), plans=(1, 1, 1.1, 1.2), tags=["performance", "dashboards"]),
    "export_broken": dict(label="CSV/Excel export broken", sentiment="neg",
        keywords=["export", "csv", "excel", "xlsx"],
        weights=(9, 3, 5, 3, 2, 5), plans=(0.8, 1, 1.1, 1.1), tags=["export", "bug"]),
    "pricing": dict(label="Pricing too expensive", sentiment="neg",
        keywords=["price", "expensive", "cost", "seat"],
        weights=(3, 7, 9, 0, 8, 4), plans=(2, 1.5, 0.8, 0.6), tags=["billing", "pricing"]),
    "onboarding_confusing": dict(label="Onboarding confusing", sentiment="neg",
        keywords=["onboarding", "setup", "getting started", "confusing"],
        weights=(5, 5, 7, 2, 3, 6), plans=(1.5, 1.2, 1, 0.8), tags=["onboarding", "how_to"]),
    "notification_spam": dict(label="Too many notifications", sentiment="neg",
        keywords=["notification", "alerts", "e-mails", "push"],
        weights=(3, 6, 3, 3, 0.3, 1), plans=(1.5, 1, 0.8, 0.7), tags=["notifications"]),
    "dark_mode": dict(label="Dark mode request", sentiment="req",
        keywords=["dark mode", "dark theme"],
        weights=(1, 6, 2, 5, 0.3, 1), plans=(1.5, 1, 0.8, 0.7), tags=["feature_request", "ui"]),
    "slack_integration": dict(label="Slack integration", sentiment="neg",
        keywords=["slack", "channel", "integration"],
        weights=(4, 1, 3, 2, 4, 4), plans=(0.7, 1, 1.2, 1.2), tags=["integrations", "slack"]),
    "search": dict(label="Search not finding things", sentiment="neg",
        keywords=["search", "find", "results"],
        weights=(5, 4, 4, 3, 1, 3), plans=(1, 1, 1, 1.1), tags=["search"]),
    "permissions": dict(label="Roles and permissions", sentiment="req",
        keywords=["permissions", "roles", "access", "viewer"],
        weights=(6, 0.5, 3, 1, 5, 6), plans=(0.2, 0.6, 1.3, 2), tags=["permissions", "admin"]),
    "api_rate_limits": dict(label="API rate limits", sentiment="neg",
        keywords=["api", "rate limit", "429", "throttling"],
        weights=(5, 0.5, 2, 1, 3, 3), plans=(0.3, 0.8, 1.2, 1.5), tags=["api"]),
    "offline_mode": dict(label="Offline mode request", sentiment="req",
        keywords=["offline", "no connection", "mobile"],
        weights=(1, 5, 2, 5, 1, 1), plans=(1.5, 1, 0.8, 0.7), tags=["mobile", "feature_request"]),
    "data_import": dict(label="Data import errors", sentiment="neg",
        keywords=["import", "upload", "connector", "sync"],
        weights=(7, 1, 3, 2, 2, 4), plans=(0.8, 1, 1.2, 1.2), tags=["data_import", "connectors"]),
    "chart_customization": dict(label="Chart customization", sentiment="req",
        keywords=["chart", "colours", "axis", "labels"],
        weights=(4, 2, 5, 4, 3, 5), plans=(1, 1, 1, 1), tags=["charts", "feature_request"]),
    "praise": dict(label="Praise", sentiment="pos",
        keywords=["love", "great", "thank", "fantastic"],
        weights=(2, 12, 10, 4, 3, 4), plans=(1, 1, 1, 1), tags=["praise"]),
    "sso_login": dict(label="SSO/SAML login failures", sentiment="neg",
        keywords=["sso", "saml", "login", "sign in"],
        weights=(0,) * 6, plans=(1, 1, 1, 1), tags=["sso", "login", "authentication"]),
    "billing_vat": dict(label="Billing: VAT and invoices", sentiment="neg",
        keywords=["invoice", "vat", "e-invoice", "reverse charge"],
        weights=(0,) * 6, plans=(1, 1, 1, 1), tags=["billing", "invoice"]),
    "ai_assistant": dict(label="AI assistant wrong answers", sentiment="neg",
        keywords=["ai assistant", "ask ai", "wrong answer", "hallucinat"],
        weights=(0,) * 6, plans=(1, 1, 1, 1), tags=["ai_assistant", "bug"]),
    "password_reset": dict(label="Password reset e-mails not arriving", sentiment="neg",
        keywords=["password reset", "reset e-mail", "locked out"],
        weights=(0,) * 6, plans=(1, 1, 1, 1), tags=["login", "password"]),
    "salesforce_sync": dict(label="Salesforce two-way sync", sentiment="req",
        keywords=["salesforce", "two-way sync", "write back"],
        weights=(0,) * 6, plans=(1, 1, 1, 1), tags=["integrations", "salesforce"]),
    "mobile_crash": dict(label="Mobile app crash on launch", sentiment="neg",
        keywords=["crash", "launch", "app", "closes"],
        weights=(0,) * 6, plans=(1, 1, 1, 1), tags=["mobile", "crash", "bug"]),
}  # fmt: skip
PHRASES = {**PHRASES_A, **PHRASES_B, **PHRASES_C}
assert sorted(PHRASES) == sorted(THEMES), "every theme needs phrases"

# The planted trends. Counts are per week at the default volume; "recent" multiplies the
# in-segment baseline over the last 4 weeks; "emerging" lists counts from its start week;
# "fading" has a high rate before fix_week and `after` (a per-week probability of one item).
# `where` picks accounts (plan/region); {"account": None} means reviews without an account.
PLANTED: list[dict] = [
    dict(id="sso_enterprise_rising", theme="sso_login", kind="rising", segment="enterprise",
         segments=["enterprise"], where={"plan": ["enterprise"]}, baseline=5.0,
         recent=(2.5, 3.0, 3.4, 3.8),
         sources={"support": 0.6, "survey": 0.1, "notes": 0.15, "internal": 0.15},
         background=dict(per_week=5.0, plans={"free": 0.1, "pro": 0.3, "business": 0.6},
                         sources={"support": 0.8, "survey": 0.1, "notes": 0.1}),
         description="SSO/SAML login failures in enterprise accounts roughly triple over the "
                     "last 4 weeks (IdP certificate rotation); flat in other plans."),
    dict(id="vat_emea_business_rising", theme="billing_vat", kind="rising", segment="emea",
         segments=["emea", "mid_market"], where={"plan": ["business"], "region": ["EMEA"]},
         baseline=3.5, recent=(2.3, 3.0, 3.6, 4.0),
         sources={"support": 0.7, "survey": 0.1, "notes": 0.1, "internal": 0.1},
         background=dict(per_week=4.0, plans={"free": 0.15, "pro": 0.35, "business": 0.2,
                                              "enterprise": 0.3},
                         sources={"support": 0.85, "survey": 0.15}),
         description="VAT/e-invoice problems rise in EMEA business accounts (new e-invoicing "
                     "rules); other regions flat."),
    dict(id="ai_assistant_emerging", theme="ai_assistant", kind="emerging", segment="enterprise",
         segments=["enterprise", "mid_market"], where={"plan": ["enterprise", "business", "pro"]},
         plan_mix={"enterprise": 0.45, "business": 0.4, "pro": 0.15}, counts=(6, 12, 20, 28),
         sources={"support": 0.4, "beta": 0.3, "survey": 0.15, "notes": 0.1, "internal": 0.05},
         description="New theme: the AI assistant (launched in week 9) gives wrong answers; "
                     "zero items before, growing weekly, mostly business/enterprise."),
    dict(id="password_reset_fading", theme="password_reset", kind="fading", segment="all",
         segments=["free"], baseline=14.0, after=0.3,
         plans={"free": 0.3, "pro": 0.3, "business": 0.25, "enterprise": 0.15},
         sources={"support": 0.5, "review": 0.35, "survey": 0.1, "beta": 0.05},
         description="Password reset e-mails not arriving: high until the mail provider fix "
                     "in week 7, near zero afterwards."),
    dict(id="salesforce_internal_push", theme="salesforce_sync", kind="internal_push",
         segment="enterprise", segments=[], where={"plan": ["enterprise", "business"]},
         internal=6.0, internal_recent=10.0, customers=1.0,
         sources={"support": 0.4, "survey": 0.3, "notes": 0.3},
         description="Sales notes push a two-way Salesforce sync hard (rising before quarter "
                     "close) while customers barely mention it; weighting should keep it "
                     "from the top and it should not be flagged."),
    dict(id="mobile_crash_free_reviews", theme="mobile_crash", kind="rising", segment="free",
         segments=["free"], where={"account": None}, baseline=2.5, recent=(3.2, 4.0, 4.6, 5.0),
         sources={"review": 1.0}, versions=["5.3.0", "5.3.1", "5.3.2"],
         background=dict(per_week=3.0, plans={"pro": 0.4, "business": 0.35, "enterprise": 0.25},
                         sources={"support": 0.7, "beta": 0.3}),
         description="App-store reviews report a crash on launch after release 5.3.0; "
                     "support tickets from paying plans stay flat."),
]  # fmt: skip
SURVEY_FATIGUE_ACCOUNTS = 10

# App releases: (version, fraction of the period at which it ships); 5.3.0 ships at the
# start of the last 4 weeks (set by the generator), beta builds run one release ahead.
RELEASES = [("5.1.0", 0.0), ("5.1.1", 0.12), ("5.1.2", 0.28), ("5.2.0", 0.4), ("5.2.1", 0.55),
            ("5.3.0", None), ("5.3.1", 0.8), ("5.3.2", 0.9)]  # fmt: skip
BETA_BUILDS = [("5.2.0", 1080, 0.0), ("5.3.0", 1130, 0.35), ("5.4.0", 1190, 0.7)]
DEVICES = ["iPhone 16 Pro", "iPhone 15", "iPhone 14", "iPhone 13 mini", "iPhone SE (3rd gen)",
           "iPad Pro 13-inch (M4)", "iPad Air (5th gen)", "iPhone 17 Pro"]  # fmt: skip
ANDROID = ["Pixel 9", "Pixel 8a", "Galaxy S25", "Galaxy A55", "OnePlus 12"]
IOS_VERSIONS = ["iOS 26.1", "iOS 26.0.1", "iOS 18.7", "iPadOS 26.1", "iOS 26.2 beta"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"]
IDPS = ["Okta", "Microsoft Entra ID", "Azure AD", "Google Workspace", "OneLogin", "Ping Identity"]
COMPETITORS = ["Dashwise", "Metricly", "Graphora", "Insightful BI"]
EU_COUNTRIES = ["Germany", "France", "the Netherlands", "Belgium", "Spain", "Italy", "Austria"]
TERRITORIES = {"USA": 40, "GBR": 12, "DEU": 10, "FRA": 7, "CAN": 6, "AUS": 5, "JPN": 4,
               "IND": 4, "ESP": 3, "MEX": 3, "BRA": 3, "NLD": 3}  # fmt: skip
TERRITORY_LANG = {"DEU": ("de", 0.35), "FRA": ("fr", 0.35), "ESP": ("es", 0.5),
                  "MEX": ("es", 0.5)}  # fmt: skip

FIRST_NAMES = ["Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kavya", "Liam", "Maria", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar",
    "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Chloe", "Dmitri", "Emma", "Felix",
    "Gabriela", "Hannah", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nina", "Oscar", "Priya",
    "Rahul", "Sofia", "Tom", "Valentina", "Lucas", "Mei", "Amara", "Jakob"]  # fmt: skip
LAST_NAMES = ["Adler", "Brooks", "Castro", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoffmann",
    "Ito", "Jensen", "Kowalski", "Laurent", "Meyer", "Nakamura", "Okafor", "Patel", "Quintero",
    "Rossi", "Schmidt", "Tanaka", "Usman", "Vogel", "Wagner", "Xu", "Yilmaz", "Zimmermann",
    "Andersson", "Bianchi", "Chen", "Dias", "Evans", "Fernandes", "Gomez", "Hughes", "Iyer",
    "Johansson", "Kim", "Lopez", "Martin", "Novak", "Oliveira", "Park", "Reyes", "Silva",
    "Thompson", "Kaur", "Walsh", "Moreau", "Becker", "Sato"]  # fmt: skip
COMPANY_A = ["North", "Blue", "Iron", "Silver", "Bright", "Green", "Red", "Stone", "Clear",
    "Swift", "Harbor", "Summit", "Pine", "Maple", "Cedar", "Atlas", "Nova", "Lumen", "Orbit",
    "Vertex", "Copper", "Falcon", "Golden", "River", "Quartz", "Polar", "Sun", "Ember"]  # fmt: skip
COMPANY_B = ["wind", "field", "bridge", "path", "point", "gate", "line", "wave", "peak", "works",
    "leaf", "light", "stack", "forge", "mark", "yard", "view", "ridge", "core", "port"]  # fmt: skip
COMPANY_C = ["Analytics", "Logistics", "Health", "Foods", "Labs", "Retail", "Energy", "Media",
    "Systems", "Finance", "Mobility", "Robotics", "Travel", "Insurance", "Apparel", "Bio"]  # fmt: skip
LEGAL = {"NA": ["Inc.", "LLC", "Corp."], "EMEA": ["GmbH", "Ltd", "BV", "SAS", "AG", "AB"],
         "APAC": ["Pty Ltd", "Pte Ltd", "K.K.", "Ltd"], "LATAM": ["S.A.", "Ltda.", "S.A. de C.V."]}  # fmt: skip
TITLES = {"admin": "IT Administrator", "developer": "Data Engineer", "analyst": "Senior Analyst",
          "executive": "VP Operations", "end_user": "Operations Manager"}  # fmt: skip
STAFF = [("Nadia", "Brandt", "Account Executive"), ("Marcus", "Hale", "Account Executive"),
         ("Sophie", "Lindqvist", "Customer Success Manager"), ("Diego", "Ramos", "Account Executive"),
         ("Helena", "Kraus", "Customer Success Manager"), ("Tobias", "Reed", "Solutions Engineer"),
         ("Yuki", "Mori", "Customer Success Manager"), ("Aaron", "Blake", "Sales Director"),
         ("Leila", "Haddad", "Solutions Engineer"), ("Owen", "Price", "Product Manager"),
         ("Camille", "Roux", "Account Executive"), ("Ravi", "Menon", "Customer Success Manager")]  # fmt: skip
COMPANY_DOMAIN = "chorus-demo.example"
NICK_A = ["data", "happy", "busy", "tired", "mobile", "metric", "chart", "frustrated", "night",
          "coffee", "ops", "kpi", "cloud", "sunny", "pm"]  # fmt: skip
NICK_B = ["nerd", "user", "guy", "girl", "fan", "owl", "ninja", "dev", "lover", "pro", "boss"]

OPENERS = [
    "Hi team,",
    "Hello,",
    "Hi there,",
    "Hey,",
    "Hi Support,",
    "Good morning,",
    "Dear Chorus team,",
]
CLOSINGS = ["Thanks", "Thanks in advance", "Cheers", "Thank you", "Many thanks", "Best"]
NOTE_KINDS = {"qbr": "QBR", "workshop": "Workshop", "customer-working-group": "Customer working group",
              "discovery-call": "Discovery call", "onboarding-session": "Onboarding session",
              "escalation-review": "Escalation review"}  # fmt: skip
INTERNAL_OPENERS = ["Call with {contact}:", "QBR recap:", "Notes from renewal call:",
    "Discovery call:", "Email from {contact}:", "Check-in with champion:", "Slack from CSM:", "",
    ""]  # fmt: skip
INTERNAL_CONTEXT = ["Renewal in {quarter}.", "Current ARR ~{arr}k.", "Champion is supportive.",
    "Exec sponsor joined the call.", "Risk flagged in CRM.", "Expansion opportunity with "
    "another team.", "Follow-up scheduled next week."]  # fmt: skip
BETA_PREFIXES = ["", "Beta {build}: ", "Tested on {device}: ", "[{build}] ", "Feedback: "]
SURVEY_FATIGUE_LINES = ["Same as last time.", "Already answered this survey twice this month.",
    "See my previous comments.", "Still the same issue:", "Again:", "Please stop sending this "
    "survey so often.", "Nothing changed since my last answer."]  # fmt: skip
NOISE = {
    "support": ["test", "Test ticket, please ignore", "asdf", "Thanks, that fixed it!",
        "Thank you so much for the quick help.", "ok thanks", "Please close this ticket.",
        "BOOST YOUR SEO RANKING TODAY!!! Visit http://cheap-seo-links.example now",
        "Congratulations, you have won a gift card. Claim at http://prize-claim.example",
        "Auto-reply: I am out of office until Monday.", "re: re: fwd:", "."],
    "review": ["ok", "meh", "👍", "Fine.", "it's an app", "Five stars", "no comment", "k"],
    "survey": ["n/a", "nothing", "-", "no comment", "all good", "none", "ok", "."],
    "beta": ["test", "testing the feedback button", "asdf", "screenshot attached", "ignore"],
    "internal": ["test note", "dup, see previous note"],
}  # fmt: skip
# Personal data for the redaction step: all invented or reserved for fiction/testing.
PII_PHONES = ["(415) 555-0132", "+1 415-555-0187", "+1 (212) 555-0199", "555-0143",
    "+44 20 7946 0321", "020 7946 0958", "+49 30 23125 417", "030 23125 662",
    "+33 1 99 00 12 34", "+61 491 570 156", "+1.646.555.0110"]  # fmt: skip
PII_CARDS = ["4111 1111 1111 1111", "4012-8888-8888-1881", "5555 5555 5555 4444",
             "5105105105105100", "3782 822463 10005", "6011 1111 1111 1117"]  # fmt: skip
PII_IBANS = ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32",
             "FR76 3000 6000 0112 3456 7890 189", "NL91ABNA0417164300",
             "ES91 2100 0418 4502 0005 1332"]  # fmt: skip
PII_SENTENCES = {
    "email": ["Please reply to {email}, I don't check this inbox.", "You can cc my colleague "
        "{email} on this.", "Contact for this: {email}", "My personal address is {email} if "
        "that's easier."],
    "phone": ["Call me at {phone} if that's easier.", "My direct line is {phone}.",
        "Feel free to ring me on {phone}.", "Mobile: {phone}"],
    "card": ["We tried paying with card {card} and it was declined.", "The card {card} was "
        "charged twice this month.", "Please charge the card {card} instead."],
    "iban": ["Please refund to our account, IBAN {iban}.", "Our IBAN changed to {iban}, "
        "please update your records.", "Bank details for the refund: {iban}"],
}  # fmt: skip
PII_KIND_SHARE = {"email": 0.4, "phone": 0.35, "card": 0.15, "iban": 0.1}
PII_RATE = 0.016  # deliberate PII sentences; signatures and quoted replies add a bit more
