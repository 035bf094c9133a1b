"""Words the demo generator draws from (fixed lists: the data must not change between runs)."""

from __future__ import annotations

COUNTRY_CODES = ("US", "DE", "GB", "FR", "NL", "ES", "IT", "SE", "PL", "CA", "BR", "JP")
COUNTRY_WEIGHTS = (30, 14, 10, 8, 6, 6, 5, 4, 4, 5, 4, 4)

CITIES: dict[str, tuple[str, ...]] = {
    "US": ("New York", "San Francisco", "Chicago", "Austin", "Seattle", "Boston", "Denver"),
    "DE": ("Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt", "Leipzig"),
    "GB": ("London", "Manchester", "Bristol", "Edinburgh", "Leeds"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Lille"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Seville"),
    "IT": ("Rome", "Milan", "Turin", "Bologna"),
    "SE": ("Stockholm", "Gothenburg", "Malmo"),
    "PL": ("Warsaw", "Krakow", "Wroclaw", "Gdansk"),
    "CA": ("Toronto", "Vancouver", "Montreal"),
    "BR": ("Sao Paulo", "Rio de Janeiro", "Belo Horizonte"),
    "JP": ("Tokyo", "Osaka", "Kyoto", "Fukuoka"),
}

CURRENCIES = {
    "US": "USD", "CA": "CAD", "GB": "GBP", "SE": "SEK", "PL": "PLN", "BR": "BRL", "JP": "JPY",
    "DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "IT": "EUR",
}  # fmt: skip

FIRST_NAMES = (
    "Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Mia", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Will", "Xenia", "Yuki", "Zoe", "Aiko", "Bruno", "Carla", "Dmitri", "Elif", "Farah",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Schmidt", "Garcia", "Martin", "Rossi", "Nowak", "Jansen", "Silva", "Tanaka",
    "Andersson", "Dubois", "Brown", "Muller", "Lopez", "Bianchi", "Kowalski", "de Vries",
    "Santos", "Sato", "Johansson", "Moreau", "Wilson", "Weber", "Fernandez", "Romano",
)  # fmt: skip
EMAIL_DOMAINS = ("Gmail.com", "gmail.com", "Example.com", "example.org", "Outlook.com",
                 "proton.me", "company.io", "Mail.de")  # fmt: skip

COMPANY_WORDS = (
    "Blue", "Harbor", "North", "Quantum", "Bright", "Silver", "Cedar", "Atlas", "Nimbus", "Pixel",
    "River", "Summit", "Vector", "Orbit", "Maple", "Falcon", "Granite", "Lumen", "Delta", "Echo",
)  # fmt: skip
COMPANY_SUFFIXES = ("Labs", "Systems", "GmbH", "Inc", "Ltd", "Studio", "Works", "Group", "AB")

CATEGORIES: dict[str, tuple[str, ...]] = {
    "Electronics": ("Headphones", "Keyboard", "Monitor", "Webcam", "Charger"),
    "Office": ("Desk", "Chair", "Lamp", "Notebook", "Whiteboard"),
    "Software": ("License", "Subscription", "Plugin", "Template", "Course"),
    "Home": ("Mug", "Blanket", "Plant", "Candle", "Kettle"),
    "Outdoor": ("Backpack", "Bottle", "Tent", "Jacket", "Bike Light"),
    "Books": ("Novel", "Cookbook", "Handbook", "Atlas", "Comic"),
    "Sports": ("Yoga Mat", "Dumbbell", "Ball", "Racket", "Helmet"),
    "Toys": ("Puzzle", "Robot Kit", "Board Game", "Plush", "Drone"),
}
PRODUCT_ADJECTIVES = ("Compact", "Ergonomic", "Premium", "Classic", "Smart", "Eco", "Pro", "Mini",
                      "Ultra", "Modular", "Wireless", "Vintage")  # fmt: skip
BENEFITS = ("focus", "speed", "comfort", "reliability", "simplicity", "collaboration", "style")
BLURBS = (
    "Built to last and designed in-house with feedback from thousands of customers.",
    "Ships in recyclable packaging and comes with a two-year warranty.",
    "Works out of the box; no account or configuration needed to get started.",
    "Our best seller three years running, now with a refreshed look.",
    "Pairs well with the rest of the collection and fits any workspace.",
    "Tested by our support team for a full quarter before release.",
    "Available in five colours; returns are free within thirty days.",
    "Rated four and a half stars on average across all regions.",
)
PATHS = ("/", "/pricing", "/docs", "/dashboard", "/settings", "/checkout", "/search",
         "/api/users", "/api/orders", "/products/42", "/blog/launch", "/login")  # fmt: skip
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
