"""Phrase fragments for the demo themes, part B (integrations, search, permissions, API, mobile).

Same fragment kinds and placeholders as `flows.devtools.demo.phrases_a`.
"""

from __future__ import annotations

PHRASES_B: dict[str, dict[str, list[str] | dict[str, list[str]]]] = {
    "slack_integration": {
        "subjects": [
            "Slack integration not posting",
            "Slack alerts stopped",
            "Slack channel missing in list",
        ],
        "problems": [
            "The Slack integration stopped posting our daily report to the channel.",
            "Private Slack channels don't show up when I set up an alert.",
            "Dashboard snapshots in Slack are blurry and unreadable.",
            "We reconnected Slack and now every message is posted twice.",
            "Slack alerts arrive hours late.",
        ],
        "details": [
            "We use Slack Enterprise Grid with several workspaces.",
            "Reinstalling the Slack app didn't help.",
            "The integration page says 'connected' but nothing arrives.",
        ],
        "impacts": [
            "Our sales team lives in Slack and relies on these morning numbers.",
            "People think the numbers are stale because the post is missing.",
        ],
        "asks": [
            "Can you check the Slack connection for our workspace?",
            "Please support private channels.",
            "Could you add threaded replies for alerts?",
        ],
        "short": [
            "slack integration broken",
            "wish it worked better with Slack",
        ],
        "internal": [
            "Customer asked for better Slack integration, wants interactive charts in Slack.",
            "Slack daily digest broken for the account, CSM escalated.",
        ],
    },
    "salesforce_sync": {
        "subjects": [
            "Salesforce sync question",
            "Two-way Salesforce sync?",
            "Salesforce fields missing",
        ],
        "problems": [
            "Is there a way to write results back to Salesforce?",
            "The Salesforce sync only reads data, we would like it to update opportunities.",
            "Custom Salesforce fields are not available in the connector.",
        ],
        "details": [
            "We use Salesforce as our source of truth for accounts.",
            "Right now someone copies scores over by hand.",
        ],
        "impacts": [
            "It would save our ops team a few hours a week.",
        ],
        "asks": [
            "Is a two-way sync on the roadmap?",
            "Could you support custom objects?",
        ],
        "short": [
            "needs salesforce sync",
        ],
        "internal": [
            "Prospect said {competitor} has a two-way Salesforce sync and we don't.",
            "Customer asked for bidirectional Salesforce sync; {competitor} demoed it last week.",
            "Deal blocker: no write-back to Salesforce opportunities, {competitor} offers it.",
            "Sales leadership at the prospect wants scores pushed into Salesforce automatically.",
            "Again heard that {competitor} syncs both ways with Salesforce. We need this to win {n}k ARR deals.",
            "RevOps at the account asked if we can update Salesforce fields from our alerts.",
            "Competitive loss risk: prospect says {competitor}'s Salesforce integration is much deeper.",
            "Told the prospect a two-way Salesforce sync is on the roadmap, they want a date.",
        ],
    },
    "search": {
        "subjects": [
            "Search doesn't find dashboard",
            "Search results irrelevant",
            "Can't find reports via search",
        ],
        "problems": [
            "Search doesn't find dashboards even when I type the exact name.",
            "The search only matches the beginning of a title, not words in the middle.",
            "Searching for a metric returns dozens of irrelevant results.",
            "Newly created reports don't show up in search for hours.",
            "Search ignores dashboard descriptions and tags.",
        ],
        "details": [
            "We have around {n}00 dashboards in our workspace.",
            "Typing 'churn' shows archived stuff first.",
            "It's case sensitive, which is confusing.",
        ],
        "impacts": [
            "People rebuild reports because they can't find existing ones.",
            "I end up bookmarking everything, which defeats the purpose.",
        ],
        "asks": [
            "Please improve search relevance.",
            "Could you add filters to the search, like owner or folder?",
        ],
        "short": [
            "search is useless",
            "cant find anything with search",
            "search needs work",
        ],
        "internal": [
            "Customer mentioned search is hard to use with hundreds of dashboards.",
        ],
    },
    "permissions": {
        "subjects": [
            "Roles and permissions",
            "Viewer can edit dashboards?",
            "Need folder-level permissions",
            "Permission denied for admin",
        ],
        "problems": [
            "We need finer-grained roles than admin, editor and viewer.",
            "Viewers can still see all datasets, which our compliance team flagged.",
            "There is no way to restrict a folder to one department.",
            "An admin in our workspace gets 'permission denied' on shared dashboards.",
            "Row-level security doesn't apply to exported data.",
            "We can't give an external contractor access to just one dashboard.",
        ],
        "details": [
            "We have {n} departments that must not see each other's data.",
            "Our auditors asked for a permission report.",
            "Group sync from {idp} doesn't map to your roles.",
        ],
        "impacts": [
            "We can't roll this out to the whole company until this is fixed.",
            "This is a blocker for our SOC 2 audit.",
            "Right now we maintain duplicate workspaces as a workaround.",
        ],
        "asks": [
            "Do you plan custom roles?",
            "Please add folder-level permissions.",
            "Can you map {idp} groups to roles?",
        ],
        "short": [
            "permissions are a mess",
        ],
        "internal": [
            "Enterprise prospect requires custom roles and folder-level permissions.",
            "Customer's compliance team flagged that viewers can see all datasets.",
            "Admin asked for a permissions audit export before the renewal.",
        ],
    },
    "api_rate_limits": {
        "subjects": [
            "API rate limit too low",
            "429 Too Many Requests",
            "API throttling",
        ],
        "problems": [
            "We keep hitting the API rate limit with our nightly sync.",
            "The API returns 429 errors after about {n} requests.",
            "The rate limit headers don't tell us when we can retry.",
            "Bulk endpoints would save us thousands of calls, but there are none.",
            "Our data pipeline fails every night because of throttling.",
        ],
        "details": [
            "We pull metrics for {n}00 dashboards into our warehouse.",
            "We already back off exponentially.",
            "The limit seems to be per workspace, not per token.",
        ],
        "impacts": [
            "Our morning reports are missing data because the sync fails.",
            "Our developers waste time building retry logic around your API.",
        ],
        "asks": [
            "Can you raise our limit?",
            "Please document the limits and add a Retry-After header.",
            "Is there a bulk export endpoint?",
        ],
        "short": [
            "api limits too strict",
        ],
        "internal": [
            "Customer's data team hits API limits; asked for a higher tier.",
            "Developer at the account asked about bulk API and webhooks instead of polling.",
        ],
    },
    "mobile_crash": {
        "subjects": [
            "App crashes on launch",
            "iOS app crashing",
            "Android app closes immediately",
        ],
        "problems": [
            "The mobile app crashes as soon as I open it.",
            "Since the update the app closes right after the splash screen.",
            "The iOS app crashes on launch every single time.",
            "The Android app crashes when it tries to restore my last dashboard.",
            "The app opens, shows the logo, then quits.",
        ],
        "details": [
            "I'm on a {device} with {os}.",
            "Reinstalling didn't help.",
            "It started with version {version}.",
            "Logging out and back in isn't possible since it crashes first.",
        ],
        "impacts": [
            "I can't check numbers on the go anymore.",
            "Our field team depends on the app.",
        ],
        "asks": [
            "Please fix ASAP.",
            "Is there a way to roll back?",
        ],
        "short": [
            "crashes constantly",
            "Crashes on launch",
            "app wont even open",
            "Keeps crashing after update!!",
            "crash crash crash",
            "opens and closes immediately. useless",
            "Latest update broke the app, crashes on startup",
            "doesnt open anymore since {version}",
        ],
        "internal": [
            "Customer's field team reports the mobile app crashing on launch.",
        ],
        "i18n": {
            "de": ["Stürzt beim Start ab.", "Seit dem Update stürzt die App sofort ab."],
            "fr": ["L'application plante au démarrage.", "Plante à chaque ouverture."],
            "es": ["Se cierra al abrir.", "La app se bloquea al iniciar desde la actualización."],
        },
    },
    "offline_mode": {
        "subjects": [
            "Offline access",
            "Feature request: offline mode",
        ],
        "problems": [
            "Please add an offline mode to the mobile app.",
            "The app is useless on a plane because nothing loads offline.",
            "I'd like to save a dashboard for offline viewing.",
            "When the connection drops, the app forgets everything I had open.",
        ],
        "details": [
            "I travel a lot and often have no signal.",
            "Our site managers work in warehouses with bad reception.",
        ],
        "impacts": [
            "I end up taking screenshots before every flight.",
        ],
        "asks": [
            "Even a cached read-only view would help.",
            "Is offline support planned?",
        ],
        "short": [
            "needs offline mode",
            "useless without internet",
            "pls add offline support",
        ],
        "internal": [
            "Field sales team at the account asked for offline dashboards.",
        ],
        "i18n": {
            "de": ["Offline-Modus fehlt leider."],
            "fr": ["Dommage qu'il n'y ait pas de mode hors ligne."],
            "es": ["Falta un modo sin conexión."],
        },
    },
}
