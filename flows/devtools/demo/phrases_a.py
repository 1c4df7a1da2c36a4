"""Phrase fragments for the demo themes, part A (performance, export, login, pricing, UX).

Each theme maps fragment kinds to lists of strings. Placeholders in braces are filled by
`flows.devtools.demo.texts` ({secs}, {n}, {browser}, {device}, {idp}, {version}, {weekday}, ...).
Kinds: subjects (ticket subjects), problems (first-person statements), details (context),
impacts, asks, short (app-review one-liners, casual), internal (staff voice, third person),
and i18n (short review texts in de/fr/es).
"""

from __future__ import annotations

PHRASES_A: dict[str, dict[str, list[str] | dict[str, list[str]]]] = {
    "slow_dashboards": {
        "subjects": [
            "Dashboards extremely slow",
            "Dashboard load times",
            "Performance issue on main dashboard",
            "Reports take forever to render",
            "Slow loading since last week",
        ],
        "problems": [
            "Our dashboards take {secs} seconds or more to load.",
            "The main dashboard has become painfully slow.",
            "Every time I open the sales overview it spins for ages before anything shows up.",
            "Loading a dashboard with more than {n} widgets basically times out.",
            "Switching between dashboard tabs is really sluggish now.",
            "Filtering a dashboard by region freezes the page for about {secs} seconds.",
            "The weekly KPI dashboard loads slower every week as our data grows.",
            "Charts render one by one and the whole thing takes close to a minute.",
        ],
        "details": [
            "This happens in {browser} and also in the {device} app.",
            "It got noticeably worse after the last release.",
            "Smaller dashboards are fine, it's the ones with the pivot tables.",
            "We only have about {n} million rows, which shouldn't be a lot.",
            "I cleared the cache and tried incognito, same result.",
            "It's worst on {weekday} mornings when everyone logs in.",
        ],
        "impacts": [
            "We present these numbers in the exec meeting and it's embarrassing to wait.",
            "Half of my team has gone back to exporting to Excel because of this.",
            "Our analysts lose a lot of time every day staring at spinners.",
            "People are starting to question whether the tool is worth it.",
        ],
        "asks": [
            "Can you look into the performance?",
            "Is there anything we can do on our side to speed this up?",
            "Please prioritise performance over new features.",
            "Is there a caching setting we are missing?",
        ],
        "short": [
            "so slow",
            "dashboards take forever to load",
            "laggy af",
            "great data, terrible speed",
            "Spins forever on the overview screen",
            "Used to be fast. Now its painfully slow",
            "loading... loading... still loading",
        ],
        "internal": [
            "Customer complained again that dashboards are slow, mentioned {secs}s load times.",
            "Champion said the team is frustrated by dashboard performance.",
            "Prospect noticed the demo dashboard loading slowly and asked about scale.",
        ],
        "i18n": {
            "de": ["Extrem langsam, die Dashboards laden ewig.", "Seit dem Update sehr langsam."],
            "fr": ["Très lent, les tableaux de bord mettent une éternité à charger."],
            "es": ["Muy lenta, los paneles tardan muchísimo en cargar."],
        },
    },
    "export_broken": {
        "subjects": [
            "CSV export broken",
            "Excel export not working",
            "Export to xlsx fails",
            "Exported file is empty",
            "Scheduled export missing columns",
        ],
        "problems": [
            "Exporting a report to CSV gives me an empty file.",
            "The Excel export fails with 'Something went wrong' after a few seconds.",
            "When I export to xlsx, all the dates come out as numbers like 45231.",
            "CSV exports cut off at {n}000 rows without any warning.",
            "Our scheduled export stopped arriving in our inbox.",
            "The exported CSV has broken umlauts and accents in customer names.",
            "Export to Excel ignores the filters I set on the dashboard.",
            "Downloading a table as CSV just spins and never finishes.",
        ],
        "details": [
            "It's the table on the revenue report, about {n}k rows.",
            "Smaller exports still work.",
            "The file opens in Numbers but Excel says it's corrupt.",
            "We use semicolon as the separator in Germany, so commas break everything.",
            "This used to work fine until last month.",
        ],
        "impacts": [
            "Finance needs this export for month-end close.",
            "We feed these files into our ERP, so everything downstream is blocked.",
            "I now have to copy and paste tables by hand, which is error-prone.",
        ],
        "asks": [
            "Can you fix the export or give us a workaround?",
            "Please add an option for the CSV delimiter.",
            "Could you check why the export is truncated?",
            "Is there an API endpoint we could use instead?",
        ],
        "short": [
            "export doesnt work",
            "CSV export is broken",
            "cant export to excel anymore",
            "Export = empty file. Great.",
            "please fix the xlsx export",
        ],
        "internal": [
            "Customer asked when the CSV export truncation will be fixed.",
            "Finance team at the account relies on Excel export, currently broken for them.",
            "They want export with custom delimiters for their ERP.",
        ],
        "i18n": {
            "de": ["Der CSV-Export ist kaputt, die Datei ist leer."],
            "fr": ["L'export Excel ne fonctionne plus."],
            "es": ["La exportación a Excel no funciona."],
        },
    },
    "sso_login": {
        "subjects": [
            "SSO login failing",
            "SAML error when signing in",
            "Users can't log in via {idp}",
            "Single sign-on broken for our org",
            "Invalid SAML response",
        ],
        "problems": [
            "Our users can't sign in through {idp} SSO anymore.",
            "SAML login fails with 'Invalid SAML response' for most of our team.",
            "After the {idp} certificate rotation nobody can log in via SSO.",
            "SSO redirects back to the login page in an endless loop.",
            "New users provisioned through SCIM get an error on first SSO login.",
            "The SSO button just shows 'Your organisation is not configured' even though it is.",
            "Login via single sign-on works in the browser but fails in the mobile app.",
            "Some users get logged out every few minutes when using SAML.",
        ],
        "details": [
            "We use {idp} with SP-initiated login.",
            "The error started {weekday} morning without any change on our side.",
            "I double-checked the ACS URL and the entity ID.",
            "About {n} of our users are affected, mostly in the EU tenant.",
            "The SAML tracer shows a clock skew error.",
            "Password login is disabled for our org by policy, so they are completely locked out.",
        ],
        "impacts": [
            "This is blocking {n} people from doing their job.",
            "Our security team will not allow password logins as a fallback.",
            "We are a paying enterprise customer and this is a P1 for us.",
            "Leadership is asking me why our analytics platform is down.",
        ],
        "asks": [
            "Please escalate, this is urgent.",
            "Can someone from your identity team join a call today?",
            "Can you check the logs for our tenant?",
            "What changed in your SAML configuration?",
        ],
        "short": [
            "cant log in with my company SSO",
            "SSO login broken on iPhone",
            "stuck in a login loop",
        ],
        "internal": [
            "IT admin escalated SSO login failures with {idp}; renewal conversation at risk.",
            "Customer reported SAML login errors again, wants root cause analysis.",
            "Security review: prospect requires SAML SSO with SCIM, asked if the recent login issues are fixed.",
        ],
    },
    "pricing": {
        "subjects": [
            "Pricing question",
            "Price increase",
            "Cost per seat",
            "Renewal quote too high",
        ],
        "problems": [
            "The new pricing is way too expensive for a team our size.",
            "Paying per seat for viewers who only look at one dashboard a month feels unfair.",
            "Our renewal quote went up by {n}% with no new features we actually use.",
            "The jump from Pro to Business is too big for a small company.",
            "We love the product but can't justify the price anymore.",
            "Competitors offer the same for half the price.",
        ],
        "details": [
            "We are a non-profit with a tight budget.",
            "We only need a couple of features from the Business plan.",
            "Most of our {n} seats are read-only users.",
            "Budget for next year was already approved at the old price.",
        ],
        "impacts": [
            "We are evaluating alternatives because of the cost.",
            "Finance asked me to cut tools, and this one is on the list.",
            "We might downgrade to the free plan.",
        ],
        "asks": [
            "Do you offer a discount for annual billing?",
            "Please consider a cheaper viewer-only seat.",
            "Is there a startup or non-profit discount?",
            "Could we keep our current price for another year?",
        ],
        "short": [
            "too expensive",
            "Way overpriced now",
            "good app but the subscription is a ripoff",
            "price went up again??",
            "Not worth the money",
            "would pay for it if it was cheaper",
        ],
        "internal": [
            "Prospect said pricing is the main blocker, they want viewer seats for free.",
            "Customer pushed back hard on the renewal uplift of {n}%.",
            "Champion said procurement compares us with cheaper tools.",
            "Lost deal: price per seat too high compared to {competitor}.",
        ],
        "i18n": {
            "de": ["Viel zu teuer geworden.", "Gute App, aber das Abo ist zu teuer."],
            "fr": ["Beaucoup trop cher pour ce que c'est."],
            "es": ["Demasiado cara para lo que ofrece."],
        },
    },
    "onboarding_confusing": {
        "subjects": [
            "How do I get started?",
            "Setup is confusing",
            "Onboarding question",
            "Can't figure out how to connect data",
        ],
        "problems": [
            "The onboarding flow is really confusing.",
            "I signed up and had no idea what to do after the welcome screen.",
            "Connecting our first data source took me a whole afternoon.",
            "The setup checklist skips the step where you invite your team.",
            "The getting-started guide doesn't match what I see in the app.",
            "Our new hires struggle to find their way around the workspace.",
        ],
        "details": [
            "The docs reference menu items that don't exist anymore.",
            "The sample dashboard is nice but it doesn't explain how to build my own.",
            "I'm not technical, so terms like 'semantic layer' lose me.",
            "We are still in the trial and running out of days.",
        ],
        "impacts": [
            "We almost gave up during the trial.",
            "Adoption in my team is low because people find it hard to start.",
            "I spent more time on setup than on actual analysis.",
        ],
        "asks": [
            "A short video walkthrough would help a lot.",
            "Could someone give us an onboarding call?",
            "Please make the first steps simpler.",
            "Do you have templates for common use cases?",
        ],
        "short": [
            "confusing at first",
            "hard to set up",
            "no idea how to use this",
            "Took me ages to figure out how to add data",
            "needs a better tutorial",
        ],
        "internal": [
            "New customer struggling with onboarding, asked for a guided setup session.",
            "Onboarding call: admin confused by workspace vs project concepts.",
            "Trial user said the setup wizard was confusing and almost churned.",
        ],
    },
    "notification_spam": {
        "subjects": [
            "Too many notifications",
            "How to stop alert emails",
            "Notification settings ignored",
        ],
        "problems": [
            "I get way too many notifications from the app.",
            "Every small comment on a dashboard triggers a push notification.",
            "I turned off e-mail alerts but still get {n} e-mails a day.",
            "The daily digest and the instant alerts duplicate each other.",
            "My phone buzzes all day because of threshold alerts that aren't relevant to me.",
        ],
        "details": [
            "The notification settings page doesn't seem to save.",
            "It's the 'someone viewed your dashboard' ones that are the worst.",
            "This started after I was added to a few shared workspaces.",
        ],
        "impacts": [
            "People in my team are muting the app completely, so they miss real alerts.",
            "It's just noise at this point.",
        ],
        "asks": [
            "Please let us control notifications per workspace.",
            "Can you add a quiet hours setting?",
            "Please respect the notification settings.",
        ],
        "short": [
            "notification spam",
            "Stop sending me so many push notifications!!",
            "turned off notifications, still get them",
            "way too many alerts",
        ],
        "internal": [
            "Users at the account complain about notification overload.",
        ],
    },
    "dark_mode": {
        "subjects": [
            "Dark mode?",
            "Feature request: dark theme",
        ],
        "problems": [
            "Please add a dark mode.",
            "Is dark mode on the roadmap?",
            "The white background is blinding when I check numbers at night.",
            "The app ignores the system dark mode setting on my phone.",
            "Would love a dark theme for the web app, our NOC screens are dark.",
        ],
        "details": [
            "Every other app I use has one.",
            "I check our KPIs late in the evening.",
            "The charts would look great on a dark background.",
        ],
        "impacts": [
            "My eyes hurt after a long day of staring at dashboards.",
        ],
        "asks": [
            "Any plans to support dark mode?",
            "Even a simple high-contrast dark theme would be enough.",
        ],
        "short": [
            "needs dark mode",
            "DARK MODE PLEASE",
            "Great app, only missing dark mode",
            "pls add dark theme",
            "5 stars once you add dark mode",
        ],
        "internal": [
            "Customer asked about dark mode for the wall-mounted dashboards.",
        ],
        "i18n": {
            "de": ["Bitte einen Dark Mode einbauen!"],
            "fr": ["Il manque un mode sombre."],
            "es": ["Por favor, añadan modo oscuro."],
        },
    },
}
