"""Given names, surnames and group vocabulary the generated company draws from.

A mix of scripts and shapes on purpose: accents, apostrophes and letters
without an ASCII decomposition (ø, ß, ł) all occur in real directories.
"""

GIVEN_NAMES: tuple[str, ...] = (
    "Aaliyah", "Adam", "Adebayo", "Agnieszka", "Ahmed", "Aiko", "Alejandro", "Aleksandr", "Alice",
    "Amara", "Amelia", "Ana", "Anders", "André", "Anika", "Arjun", "Astrid", "Ayşe", "Bartosz",
    "Beatriz", "Ben", "Bjørn", "Carlos", "Charlotte", "Chen", "Chloé", "Daniel", "Dmitri", "Elena",
    "Emeka", "Emily", "Emma", "Erik", "Fatima", "Felipe", "François", "Freya", "Giulia", "Grace",
    "Hana", "Hannah", "Hiroshi", "Ingrid", "Isabella", "Ivan", "Jakub", "James", "Jana", "Javier",
    "Jiho", "João", "José", "Julia", "Kai", "Karin", "Kateřina", "Kenji", "Kwame", "Lars", "Laura",
    "Leila", "Li", "Lucas", "Łukasz", "Maja", "Malik", "Marco", "María", "Mateo", "Mei", "Mia",
    "Mohammed", "Nadia", "Niamh", "Noah", "Nora", "Olga", "Oliver", "Olivia", "Omar", "Paulo",
    "Priya", "Rafael", "Rahul", "Renée", "Rosa", "Sakura", "Samuel", "Sara", "Seo-yeon", "Siobhán",
    "Sofia", "Søren", "Stefan", "Tariq", "Thomas", "Tomás", "Wei", "William", "Yara", "Yusuf",
    "Zara", "Zoë", "Zofia",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Abe", "Adeyemi", "Ahmed", "Ali", "Andersen", "Anderson", "Bauer", "Becker", "Bianchi", "Brown",
    "Castro", "Chen", "Costa", "D'Angelo", "da Silva", "de Vries", "Dubois", "Dvořák", "Eriksson",
    "Fernández", "Fischer", "García", "Gonzalez", "Gruber", "Gupta", "Hansen", "Hernández", "Hoffmann",
    "Huang", "Ivanov", "Jansen", "Johansson", "Johnson", "Jones", "Kaya", "Khan", "Kim", "Kowalski",
    "Kumar", "Larsen", "Lee", "Li", "Lopez", "Martin", "Martínez", "Meyer", "Mensah", "Moreau",
    "Müller", "Murphy", "Nakamura", "Nguyen", "Nielsen", "Nowak", "O'Brien", "O'Connor", "Okafor",
    "Olsen", "Patel", "Pereira", "Petrov", "Popescu", "Rossi", "Russo", "Sánchez", "Santos",
    "Sato", "Schmidt", "Schneider", "Silva", "Singh", "Smith", "Sokołowski", "Suzuki", "Svensson",
    "Szabó", "Takahashi", "Tanaka", "Taylor", "Thompson", "Van den Berg", "Wagner", "Walsh", "Wang",
    "Weber", "Williams", "Wilson", "Wójcik", "Wu", "Yamamoto", "Yılmaz", "Zhang", "Zhou", "Østergaard",
)  # fmt: skip

# Old surnames for users whose name changed since yesterday (marriage, correction).
PREVIOUS_SURNAMES: tuple[str, ...] = ("Baker", "Clarke", "Evans", "Hughes", "Novak", "Reyes", "Ward")

DIVISIONS: tuple[str, ...] = (
    "Engineering", "Sales", "Operations", "Finance", "Marketing", "Support", "Research", "Legal",
    "People", "Product", "Security", "Facilities",
)  # fmt: skip

DEPARTMENT_WORDS: tuple[str, ...] = (
    "platform", "payments", "mobile", "web", "data", "infra", "emea", "apac", "americas", "billing",
    "accounts", "brand", "growth", "tier1", "tier2", "compliance", "recruiting", "benefits", "design",
    "analytics", "identity", "network", "procurement", "tax", "audit", "events", "partners", "quality",
)  # fmt: skip

PROJECT_PREFIXES: tuple[str, ...] = ("proj", "app", "space", "guild", "wg", "committee", "role")

PROJECT_WORDS: tuple[str, ...] = (
    "apollo", "atlas", "aurora", "borealis", "cascade", "comet", "delta", "ember", "falcon", "gemini",
    "harbor", "helix", "horizon", "jade", "kepler", "lumen", "mercury", "meridian", "nebula", "nova",
    "onyx", "orion", "pegasus", "phoenix", "polaris", "quartz", "raven", "sequoia", "sierra", "solstice",
    "summit", "tempest", "titan", "vega", "vertex", "zenith",
)  # fmt: skip

TITLES: tuple[str, ...] = (
    "Engineer", "Senior Engineer", "Staff Engineer", "Manager", "Director", "Analyst", "Specialist",
    "Consultant", "Coordinator", "Associate", "Lead", "Administrator", "Designer", "Scientist",
)  # fmt: skip
