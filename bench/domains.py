"""Vocabulary for generated behavior models: eight customer-service domains with their topics,
identifiers, tools and glossary, and the sentence templates guidelines are written from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    name: str
    identifier: str  # what the agent asks for ("order number")
    topics: tuple[str, ...]
    tools: tuple[dict, ...]
    glossary: tuple[tuple[str, tuple[str, ...], str], ...]  # (name, synonyms, description)


def tool_entry(
    name: str,
    description: str,
    *parameters: tuple[str, str, bool],
    consequential: bool = False,
    enum: tuple[str, ...] = (),
) -> dict:
    return {
        "name": name,
        "description": description,
        "implementation": "python",
        "service": None,
        "consequential": consequential,
        "timeout_seconds": 10,
        "parameters": [
            {
                "name": p_name,
                "type": p_type,
                "description": p_name.replace("_", " ").capitalize(),
                "required": required,
                "enum": list(enum) if p_type == "enum" else [],
                "items": None,
            }
            for p_name, p_type, required in parameters
        ],
    }


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "airline",
        "booking reference",
        (
            "seat selection fees",
            "lounge access",
            "checked baggage fees",
            "oversized sports equipment",
            "travelling with pets",
            "unaccompanied minors",
            "special meals",
            "name corrections on a ticket",
            "missed connections",
            "airport check-in deadlines",
            "infant fares",
            "upgrade bids",
            "frequent flyer miles expiry",
            "priority boarding",
        ),
        (
            tool_entry(
                "check_seat_map", "Show the free seats on the customer's flight", ("booking_reference", "str", True)
            ),
            tool_entry(
                "add_special_meal",
                "Order a special meal for a passenger",
                ("booking_reference", "str", True),
                ("meal", "enum", True),
                enum=("vegetarian", "vegan", "gluten_free", "halal", "kosher"),
            ),
        ),
        (
            ("Flex fare", ("Flex ticket",), "The fully changeable fare with two checked bags"),
            ("Skyway Gold", ("Gold tier",), "The top tier of the Skyway loyalty programme"),
            ("APD", ("air passenger duty",), "The UK departure tax included in the fare"),
            ("no-show", (), "A passenger who did not board without cancelling"),
            ("codeshare", (), "A flight sold by Skyway but operated by a partner airline"),
            ("MCT", ("minimum connection time",), "The shortest allowed time between two connecting flights"),
        ),
    ),
    Domain(
        "retail",
        "order number",
        (
            "order delivery times",
            "return shipping labels",
            "gift card balances",
            "price matching",
            "damaged parcels",
            "out-of-stock items",
            "warranty claims",
            "store pickup",
            "promo codes",
            "international shipping customs",
            "size exchanges",
            "subscription boxes",
            "invoice copies",
            "loyalty points for purchases",
        ),
        (
            tool_entry("lookup_order", "Look up an order by its number", ("order_number", "str", True)),
            tool_entry(
                "start_return",
                "Start a return for an order",
                ("order_number", "str", True),
                ("reason", "enum", True),
                enum=("damaged", "wrong_size", "changed_mind"),
            ),
        ),
        (
            ("RMA", ("return authorisation",), "The reference of an approved return"),
            ("click and collect", ("store pickup",), "Ordering online and collecting in a store"),
            ("price promise", (), "Matching a lower price from a listed competitor"),
            ("backorder", (), "An order for an item that is temporarily out of stock"),
            ("restocking fee", (), "A fee for returning opened electronics"),
            ("gift receipt", (), "A receipt without prices for returns by the recipient"),
        ),
    ),
    Domain(
        "banking",
        "account number",
        (
            "card activation",
            "overdraft fees",
            "international transfers",
            "lost debit cards",
            "mortgage overpayments",
            "savings interest rates",
            "direct debits",
            "account statements",
            "contactless limits",
            "disputed transactions",
            "joint accounts",
            "currency exchange rates",
            "cash withdrawal limits",
            "online banking passwords",
        ),
        (
            tool_entry(
                "get_account_summary", "Balances and recent transactions of an account", ("account_number", "str", True)
            ),
            tool_entry(
                "freeze_card",
                "Freeze the debit card of an account",
                ("account_number", "str", True),
                consequential=True,
            ),
        ),
        (
            ("IBAN", ("international bank account number",), "The account identifier used for international transfers"),
            ("chargeback", (), "Reversing a card payment through the card scheme"),
            ("arranged overdraft", (), "An overdraft limit agreed in advance"),
            ("standing order", (), "A fixed regular payment the customer sets up"),
            ("AER", ("annual equivalent rate",), "The yearly interest rate of a savings account"),
            ("SWIFT code", ("BIC",), "The code that identifies a bank internationally"),
        ),
    ),
    Domain(
        "telecom",
        "account number",
        (
            "roaming charges",
            "mobile data allowances",
            "broadband outages",
            "contract early termination",
            "SIM card replacement",
            "number porting",
            "router setup",
            "billing errors",
            "phone upgrades",
            "international calls",
            "parental controls",
            "eSIM activation",
            "signal coverage",
            "fibre installation appointments",
        ),
        (
            tool_entry("get_bill", "The latest bill of an account", ("account_number", "str", True)),
            tool_entry("check_outage", "Known outages for an account's address", ("account_number", "str", True)),
        ),
        (
            ("PAC code", ("porting code",), "The code needed to move a number to another network"),
            ("fair use policy", (), "Limits on unlimited plans to prevent abuse"),
            ("FTTP", ("full fibre",), "Fibre to the premises broadband"),
            ("ETF", ("early termination fee",), "What leaving a contract early costs"),
            ("eSIM", ("embedded SIM",), "A digital SIM built into the phone"),
            ("data rollover", (), "Unused data carried to the next month"),
        ),
    ),
    Domain(
        "insurance",
        "policy number",
        (
            "claim status",
            "policy renewals",
            "excess amounts",
            "no-claims discounts",
            "windscreen repairs",
            "home contents cover",
            "travel medical cover",
            "named drivers",
            "policy cancellation refunds",
            "accident reporting",
            "pet insurance waiting periods",
            "premium payment dates",
            "legal expenses cover",
            "courtesy cars",
        ),
        (
            tool_entry("get_claim_status", "The status of the claims on a policy", ("policy_number", "str", True)),
            tool_entry("get_policy", "The cover and excess of a policy", ("policy_number", "str", True)),
        ),
        (
            ("excess", ("deductible",), "The part of a claim the customer pays"),
            ("NCD", ("no-claims discount", "no-claims bonus"), "The discount for years without a claim"),
            ("cooling-off period", (), "The 14 days in which a new policy can be cancelled for free"),
            ("loss adjuster", (), "The expert who assesses a large claim"),
            ("underwriting", (), "Deciding whether and at what price to insure"),
            ("new-for-old", (), "Cover that replaces items with new ones"),
        ),
    ),
    Domain(
        "hotel",
        "booking reference",
        (
            "late check-out",
            "room upgrades",
            "breakfast hours",
            "parking at the hotel",
            "airport shuttles",
            "accessible rooms",
            "cancellation deadlines",
            "spa bookings",
            "connecting rooms",
            "lost property",
            "group bookings",
            "pet-friendly rooms",
            "early check-in",
            "conference room hire",
        ),
        (
            tool_entry("lookup_reservation", "Look up a hotel reservation", ("booking_reference", "str", True)),
            tool_entry(
                "request_late_checkout",
                "Ask the hotel for a late check-out",
                ("booking_reference", "str", True),
                ("checkout_date", "date", True),
            ),
        ),
        (
            ("rack rate", (), "The full undiscounted room price"),
            ("half board", (), "Breakfast and dinner included"),
            ("non-refundable rate", (), "A cheaper rate that cannot be cancelled"),
            ("city tax", (), "A per-night tax charged by some cities"),
            ("turndown service", (), "Evening room preparation"),
            ("day use", (), "Booking a room for the day only"),
        ),
    ),
    Domain(
        "software",
        "workspace name",
        (
            "password resets",
            "two-factor authentication",
            "seat licences",
            "plan downgrades",
            "API rate limits",
            "data exports",
            "single sign-on",
            "invoice VAT numbers",
            "trial extensions",
            "integration webhooks",
            "account deletion",
            "storage quotas",
            "release notes",
            "browser compatibility",
        ),
        (
            tool_entry("get_subscription", "The plan and seats of a workspace", ("workspace", "str", True)),
            tool_entry(
                "extend_trial",
                "Extend a workspace's trial",
                ("workspace", "str", True),
                ("days", "int", True),
                consequential=True,
            ),
        ),
        (
            ("SSO", ("single sign-on",), "Logging in with the company's identity provider"),
            ("2FA", ("two-factor authentication",), "A second login step with a code"),
            ("seat", ("licence",), "One paid user of a workspace"),
            ("webhook", (), "An HTTP call the product makes when something happens"),
            ("SAML", (), "The protocol used by single sign-on"),
            ("rate limit", (), "The maximum number of API calls per minute"),
        ),
    ),
    Domain(
        "clinic",
        "patient number",
        (
            "appointment rescheduling",
            "prescription renewals",
            "test results",
            "vaccination records",
            "referral letters",
            "out-of-hours care",
            "home visits",
            "missed appointment fees",
            "registering a newborn",
            "travel vaccines",
            "medical certificates",
            "physiotherapy sessions",
            "online consultations",
            "repeat prescriptions",
        ),
        (
            tool_entry("find_appointments", "Free appointment slots on a day", ("appointment_date", "date", True)),
            tool_entry(
                "renew_prescription",
                "Request a repeat prescription",
                ("patient_number", "int", True),
                consequential=True,
            ),
        ),
        (
            ("GP", ("general practitioner",), "The family doctor"),
            ("repeat prescription", (), "A prescription renewed without a new consultation"),
            ("triage", (), "Deciding how urgently a patient must be seen"),
            ("referral", (), "A letter sending a patient to a specialist"),
            ("fit note", ("medical certificate",), "A doctor's note about fitness for work"),
            ("NHS number", (), "The national patient identifier"),
        ),
    ),
)

CONDITION_TEMPLATES = (
    "The customer asks about {topic}{qualifier}",
    "The customer wants to know the rules for {topic}{qualifier}",
    "The customer complains about {topic}{qualifier}",
    "The customer asks whether {topic} can be waived{qualifier}",
    "The customer is confused by {topic}{qualifier}",
    "The customer asks how long it takes to sort out {topic}{qualifier}",
    "The customer asks for help with {topic}{qualifier}",
    "The customer asks what they will pay for {topic}{qualifier}",
    "The customer wants to make a change involving {topic}{qualifier}",
    "The customer disagrees with a decision on {topic}{qualifier}",
)
OBSERVATION_TEMPLATES = (
    "The customer seems frustrated about {topic}{qualifier}",
    "The customer has already contacted support about {topic}{qualifier}",
    "The customer mentions a deadline related to {topic}{qualifier}",
    "The customer says {topic} affected someone else{qualifier}",
)
QUALIFIERS = (
    "",
    " for a family",
    " while travelling abroad",
    " on a business account",
    " for an elderly relative",
    " after moving house",
    " as a student",
    " as a first-time customer",
    " before a holiday",
    " after a recent price change",
    " on behalf of a colleague",
    " during a weekend",
)
ACTION_TEMPLATES = (
    "Explain the policy on {topic} in two or three sentences and offer the link to the help page",
    "Ask for the {identifier} first, then explain the options for {topic}",
    "Apologise for the inconvenience, explain {topic} and offer to escalate to a specialist",
    "Summarise what applies to {topic} and ask whether that answers the question",
    "Give the exact fee or limit for {topic} from the price list and mention any exemptions",
    "Check the customer's eligibility for {topic} and explain the next steps",
    "Explain how {topic} works, mention the usual processing time and offer to send a summary by email",
)
