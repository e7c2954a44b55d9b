"""Word lists the demo company is made of. Plain data; no Django, no randomness."""

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Dorothy "
    "Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry "
    "Pamela Justin Nicole Scott Anna Brandon Samantha Benjamin Katherine Samuel Christine "
    "Gregory Debra Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia "
    "Dennis Heather Jerry Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria Nathan "
    "Joyce Henry Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia "
    "Ethan Judith Jeremy Evelyn Christian Hannah Walter Andrea Keith Megan Austin Cheryl "
    "Roger Jacqueline Terry Madison Sean Teresa Gerald Abigail Carl Sophia Dylan Martha "
    "Harold Sara Jordan Gloria Jesse Janice Bryan Kathryn Lawrence Ann Arthur Isabella "
    "Gabriel Judy Bruce Charlotte Logan Julia Billy Grace Joe Amber Alan Alice Juan Jean "
    "Elijah Denise Willie Frances Albert Danielle Wayne Marilyn Randy Natalie Mason Beverly "
    "Vincent Diana Liam Brittany Roy Theresa Bobby Kayla Caleb Alexis Bradley Doris Russell "
    "Lori Lucas Tiffany Priya Arjun Wei Mei Hiroshi Yuki Lukas Lena Jonas Mia Pierre Camille "
    "Mateus Ana Chloe Oliver Amelia Harry Freya Leon Hannes Ravi Ananya Lucia Diego Sofia"
).split()

LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales "
    "Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar "
    "Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington "
    "Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson "
    "Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes "
    "Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant "
    "Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters Santos Hart Bradley Knight "
    "Muller Schneider Fischer Weber Becker Dubois Martin Bernard Sharma Singh Gupta Tanaka "
    "Suzuki Sato Wang Li Zhang Costa Oliveira Pereira Okafor Novak Jansen Visser"
).split()

# Company names: PREFIX + CORE + SUFFIX, unique as a triple; the domain is the three run together.
COMPANY_PREFIXES = (
    "Blue Red Green Silver Golden Bright North South East West Summit Peak River Lake Stone "
    "Iron Cedar Maple Oak Pine Harbor Bay Coast Prairie Canyon Delta Alpine Arctic Solar "
    "Lunar Stellar Nova Apex Vertex Prime Core True Clear Swift Bold Quantum Vector Pixel "
    "Atlas Orion Titan Helix Nimbus Zenith Crest Ridge Falcon Eagle Hawk Wolf Fox Bear Lion "
    "Tiger Otter Sparrow Raven Crane Heron Willow Aspen Birch Elm Cobalt Copper Amber Jade "
    "Ruby Onyx Opal Indigo Violet Scarlet Azure Ivory Ember Frost Storm Thunder Harmony "
    "Unity Liberty Pioneer Frontier Horizon Meridian Beacon Keystone Cornerstone Landmark "
    "Sterling Noble Royal Crown Empire Metro Urban Civic Global Pacific Atlantic Northern "
    "Southern Central Inland Highland Lowland Valley Meadow Orchard Garden Forest Grove"
).split()
COMPANY_CORES = (
    "Data Cloud Logic Soft Works Labs Tech Net Ware Base Point Bridge Path Line Link Stack "
    "Flow Wave Pulse Spark Signal Scale Shift Sense Mind Gate Port Hub Forge Craft Mark "
    "Field Grid Loop Mesh Node Orbit Rise Source Sphere Stream Trust View Vision Way Wise "
    "Yard Axis Beam Bit Byte Chain Circle Dash Edge Fuse Hive Key Lane Leaf Lens Ledger Lift "
    "Logic Metric Motion Nest Path Quest Rail Root Route Sail Scope Shield Sight Sky Spring "
    "Star Step Tide Track Trail Vault Vista Well Wing"
).split()
COMPANY_SUFFIXES = {
    "Software": ("Software", "Systems", "Labs", "Technologies"),
    "Financial services": ("Capital", "Financial", "Bank", "Partners"),
    "Healthcare": ("Health", "Medical", "Care", "Clinics"),
    "Retail": ("Retail", "Stores", "Brands", "Market"),
    "Manufacturing": ("Industries", "Manufacturing", "Components", "Works"),
    "Education": ("Learning", "Academy", "Education", "Institute"),
    "Media": ("Media", "Studios", "Publishing", "Broadcasting"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport"),
    "Telecommunications": ("Telecom", "Networks", "Communications", "Mobile"),
    "Energy": ("Energy", "Power", "Utilities", "Renewables"),
    "Professional services": ("Consulting", "Advisors", "Group", "Associates"),
    "Government": ("Agency", "Authority", "Council", "Services"),
    "Nonprofit": ("Foundation", "Trust", "Alliance", "Society"),
}
TLDS = {
    "US": "com",
    "GB": "co.uk",
    "DE": "de",
    "CA": "ca",
    "FR": "fr",
    "IN": "in",
    "BR": "com.br",
    "AU": "com.au",
    "NL": "nl",
    "ES": "es",
    "JP": "jp",
    "SG": "sg",
    "MX": "mx",
}
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com")

CITIES = {
    "US": (
        "New York",
        "San Francisco",
        "Chicago",
        "Austin",
        "Boston",
        "Seattle",
        "Atlanta",
        "Denver",
        "Los Angeles",
        "Miami",
    ),
    "GB": ("London", "Manchester", "Edinburgh", "Bristol", "Leeds"),
    "DE": ("Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne"),
    "CA": ("Toronto", "Vancouver", "Montreal", "Calgary", "Ottawa"),
    "FR": ("Paris", "Lyon", "Toulouse", "Nantes", "Lille"),
    "IN": ("Bengaluru", "Mumbai", "Delhi", "Hyderabad", "Pune"),
    "BR": ("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Seville"),
    "JP": ("Tokyo", "Osaka", "Yokohama", "Nagoya"),
    "SG": ("Singapore",),
    "MX": ("Mexico City", "Guadalajara", "Monterrey"),
}
PHONE_PREFIX = {
    "US": "+1",
    "GB": "+44",
    "DE": "+49",
    "CA": "+1",
    "FR": "+33",
    "IN": "+91",
    "BR": "+55",
    "AU": "+61",
    "NL": "+31",
    "ES": "+34",
    "JP": "+81",
    "SG": "+65",
    "MX": "+52",
}

DEPARTMENTS = ("Engineering", "Marketing", "Sales", "Finance", "Operations", "IT", "Data")
# Titles by seniority, one per department (in DEPARTMENTS order).
TITLES = {
    "C-level": ("CTO", "CMO", "CRO", "CFO", "COO", "CIO", "Chief Data Officer"),
    "VP": tuple(f"VP of {d}" for d in DEPARTMENTS),
    "Director": tuple(f"Director of {d}" for d in DEPARTMENTS),
    "Manager": (
        "Engineering Manager",
        "Marketing Manager",
        "Sales Manager",
        "Finance Manager",
        "Operations Manager",
        "IT Manager",
        "Analytics Manager",
    ),
    "Individual contributor": (
        "Software Engineer",
        "Marketing Specialist",
        "Account Executive",
        "Financial Analyst",
        "Operations Analyst",
        "Systems Administrator",
        "Data Analyst",
    ),
}

THEMES = (
    "Cloud cost control",
    "Data security",
    "AI for operations",
    "Compliance automation",
    "Customer 360",
    "Revenue analytics",
    "Zero-downtime migrations",
    "Supply chain visibility",
    "Modern data stack",
    "Remote team productivity",
    "Fraud prevention",
    "Self-service BI",
)
PAGE_PATHS = (
    "/",
    "/product",
    "/pricing",
    "/customers",
    "/blog",
    "/blog/cloud-costs",
    "/blog/security",
    "/integrations",
    "/about",
    "/careers",
    "/docs",
    "/demo",
    "/compare",
    "/security",
    "/solutions/finance",
    "/solutions/healthcare",
)
FORMS = (
    "Demo request",
    "Contact us",
    "Content download",
    "Newsletter",
    "Webinar registration",
    "Free trial",
)
OPPORTUNITY_PRODUCTS = (
    "Platform",
    "Platform expansion",
    "Analytics add-on",
    "Enterprise plan",
    "Pilot",
    "Renewal uplift",
)
