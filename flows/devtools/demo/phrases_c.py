"""Phrase fragments for the demo themes, part C (billing, import, charts, password, AI, praise).

Same fragment kinds and placeholders as `flows.devtools.demo.phrases_a`.
"""

from __future__ import annotations

PHRASES_C: dict[str, dict[str, list[str] | dict[str, list[str]]]] = {
    "billing_vat": {
        "subjects": [
            "Invoice missing VAT ID",
            "VAT on invoice incorrect",
            "E-invoice format needed",
            "Reverse charge not applied",
            "Invoice cannot be booked",
        ],
        "problems": [
            "Our invoice doesn't show our VAT ID, so accounting can't book it.",
            "You charged VAT although we are a business in another EU country and reverse charge should apply.",
            "Our finance team needs the invoices as e-invoices (XRechnung or Peppol), not just PDF.",
            "The invoice address can't be changed and still shows our old company name.",
            "The latest invoice lists the wrong VAT rate for {country}.",
            "Invoices are missing the mandatory reverse-charge note.",
            "We were charged twice this month, once with VAT and once without.",
        ],
        "details": [
            "Our VAT number is correctly entered in the billing settings.",
            "This started with the invoices issued this quarter.",
            "Our tax advisor says the invoice is not valid in its current form.",
            "New e-invoicing rules apply to us from this year.",
        ],
        "impacts": [
            "Accounting is refusing to pay until we get a corrected invoice.",
            "We can't reclaim the VAT, which is a real cost for us.",
            "Our payment is now overdue because of this, please don't suspend the account.",
        ],
        "asks": [
            "Please send a corrected invoice.",
            "Can you support e-invoicing formats?",
            "Please refund the VAT that was charged by mistake.",
            "Where can I download a compliant invoice?",
        ],
        "short": [
            "invoice has no VAT number",
            "billing is a nightmare",
        ],
        "internal": [
            "Customer's finance department escalated missing VAT IDs on invoices.",
            "EMEA customer asked for e-invoicing (Peppol) support, otherwise procurement blocks renewal.",
            "Billing complaint: reverse charge not applied, customer wants credit note.",
        ],
    },
    "data_import": {
        "subjects": [
            "Data import failed",
            "CSV upload error",
            "Import stuck at 99%",
            "Connector sync errors",
        ],
        "problems": [
            "Importing a CSV fails with 'row {n}: unexpected value'.",
            "The upload gets stuck at 99% and never finishes.",
            "Dates in our import file are parsed as text.",
            "Our Postgres connector sync fails every night with a timeout.",
            "Imported numbers lose their decimals.",
            "The BigQuery connector doesn't pick up new columns.",
        ],
        "details": [
            "The file is about {n} MB with {n}0k rows.",
            "It's a standard UTF-8 CSV exported from our ERP.",
            "The error message doesn't say which column is wrong.",
        ],
        "impacts": [
            "Our dashboards show yesterday's data at best.",
            "We have to clean every file by hand before uploading.",
        ],
        "asks": [
            "Can you tell us which column causes the error?",
            "Please make the import more forgiving with date formats.",
            "Could you check the connector logs?",
        ],
        "short": [
            "import keeps failing",
            "cant upload my spreadsheet",
        ],
        "internal": [
            "Customer's data team struggling with connector sync failures.",
            "Onboarding blocked by CSV import errors; asked for a data engineer session.",
        ],
    },
    "chart_customization": {
        "subjects": [
            "Chart colours",
            "More chart options",
            "Custom axis labels",
        ],
        "problems": [
            "I can't change the colours of individual series in a chart.",
            "There's no way to set a secondary y-axis.",
            "Chart labels overlap when there are more than {n} categories.",
            "I'd like to use our brand colours in all charts.",
            "Number formatting in tooltips ignores my locale.",
            "We need annotations on line charts to mark releases.",
        ],
        "details": [
            "We share these charts with customers, so they have to look professional.",
            "Stacked bar charts are the ones we use most.",
        ],
        "impacts": [
            "We rebuild charts in PowerPoint for board meetings.",
        ],
        "asks": [
            "Please add more customisation options for charts.",
            "Could you add a theme editor?",
            "Can we get combo charts?",
        ],
        "short": [
            "charts are too basic",
            "need more chart types",
            "let me pick my own colors pls",
        ],
        "internal": [
            "Customer asked for branded chart themes for client-facing reports.",
        ],
    },
    "password_reset": {
        "subjects": [
            "Password reset email not arriving",
            "Can't reset password",
            "No reset link received",
        ],
        "problems": [
            "I requested a password reset three times and never got the e-mail.",
            "The password reset e-mail doesn't arrive, not even in spam.",
            "The reset link in the e-mail has already expired when I click it.",
            "I'm locked out because the reset e-mail never comes.",
            "Password reset mails reach my colleagues but not me.",
        ],
        "details": [
            "I checked spam and quarantine with our IT.",
            "It's been over {n} hours since I requested it.",
            "Our mail server logs show nothing from you.",
        ],
        "impacts": [
            "I can't access my reports for the board meeting.",
            "I'm completely locked out of my account.",
        ],
        "asks": [
            "Can you reset it manually?",
            "Please check your mail delivery.",
        ],
        "short": [
            "reset password email never arrives",
            "cant log in, no reset email",
            "forgot password doesnt work",
            "locked out. reset link never comes",
        ],
        "internal": [
            "Customer locked out, password reset e-mails not arriving.",
        ],
        "i18n": {
            "de": ["Passwort-Reset-Mail kommt nie an."],
            "fr": ["Je ne reçois jamais l'e-mail de réinitialisation."],
            "es": ["Nunca llega el correo para restablecer la contraseña."],
        },
    },
    "ai_assistant": {
        "subjects": [
            "AI assistant gives wrong numbers",
            "Ask AI answers incorrect",
            "AI assistant hallucinating",
            "Wrong answer from the assistant",
        ],
        "problems": [
            "The new AI assistant gave me a revenue number that is off by {n}%.",
            "Ask AI answered with a metric that doesn't exist in our workspace.",
            "The assistant confidently summarised the wrong quarter.",
            "When I ask the AI assistant about churn, it mixes up customers and accounts.",
            "The AI assistant ignores the filters on the dashboard I'm looking at.",
            "The assistant made up a chart title and numbers that aren't in our data.",
            "Ask AI gives a different answer every time I ask the same question.",
        ],
        "details": [
            "I checked the numbers against the underlying table and they don't match.",
            "It happened with a simple question like 'top {n} accounts by ARR'.",
            "The answer looks plausible, which makes it dangerous.",
            "Our CFO noticed first.",
            "It seems to ignore our fiscal year settings.",
        ],
        "impacts": [
            "We can't trust the assistant for anything we present.",
            "Someone almost sent a wrong figure to the board.",
            "We've told the team to stop using Ask AI for now.",
        ],
        "asks": [
            "Can the assistant show which data it used?",
            "Please let admins turn it off until it's reliable.",
            "Is there a way to give it our metric definitions?",
            "Please add a citation or link to the source query.",
        ],
        "short": [
            "AI assistant makes stuff up",
            "the new AI feature gives wrong answers",
            "ask AI is confidently wrong",
        ],
        "internal": [
            "Customer escalated wrong answers from the AI assistant in a board deck.",
            "Champion said the AI assistant is impressive in demos but unreliable with their data.",
            "Prospect asked how we prevent hallucinations after seeing a wrong answer.",
        ],
    },
    "praise": {
        "subjects": [
            "Thank you!",
            "Great product",
            "Kudos to the team",
        ],
        "problems": [
            "Just wanted to say the product is fantastic.",
            "The new dashboard builder is a huge improvement.",
            "Your support team solved our issue within an hour, amazing.",
            "This tool has changed how our team makes decisions.",
            "We replaced three spreadsheets and a BI tool with your product.",
            "The mobile app is great for checking KPIs on the go.",
        ],
        "details": [
            "Especially the sharing features.",
            "The onboarding for our second team went really smoothly.",
            "Everyone in the company uses it now.",
        ],
        "impacts": [
            "We save hours every week.",
            "Our leadership finally looks at the same numbers.",
        ],
        "asks": [
            "Keep up the great work!",
            "Looking forward to what's next.",
        ],
        "short": [
            "Love it!!",
            "Great app",
            "best analytics app ive used",
            "super useful, love the dashboards",
            "Does exactly what I need",
            "Excellent 👍",
            "10/10 would recommend",
            "clean, fast, easy",
        ],
        "internal": [
            "Customer very happy with the product, open to a case study.",
            "QBR went well, champion praised the dashboards and support.",
        ],
        "i18n": {
            "de": ["Super App, sehr übersichtlich!", "Tolle App."],
            "fr": ["Super application, très pratique."],
            "es": ["Excelente aplicación, muy útil."],
        },
    },
}
