"""Realistic made-up customers for `openscout db seed`: names, emails, phones, organizations.

Deterministic for a given seed and starting number, so that benchmarks can be rebuilt alike.
Email addresses carry the customer's sequence number, which keeps them unique in an account
(an address identifies one customer, spec §10.6).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta

from openscout.domain.customers import Customer, Entry

FIRST_NAMES = (  # noqa: SIM905 - a list of names reads best as text
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa "
    "Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew "
    "Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy "
    "Stephanie Ronald Rebecca Jason Laura Edward Sharon Jeffrey Cynthia Ryan Kathleen Jacob Amy "
    "Gary Shirley Nicholas Angela Eric Helen Jonathan Anna Stephen Brenda Larry Pamela Justin "
    "Nicole Scott Emma Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra "
    "Alexander Rachel Frank Carolyn Patrick Janet Raymond Catherine Jack Maria Dennis Heather "
    "Jerry Diane Tyler Ruth Aaron Julie José Olivia Adam Joyce Henry Virginia Nathan Victoria "
    "Douglas Kelly Zachary Lauren Peter Christina Kyle Joan Ethan Evelyn Walter Judith Noah "
    "Megan Jeremy Andrea Christian Cheryl Keith Hannah Roger Jacqueline Terry Martha Gerald "
    "Gloria Harold Teresa Sean Ann Austin Sara Carl Madison Arthur Frances Lawrence Kathryn "
    "Dylan Janice Jesse Jean Jordan Abigail Bryan Alice Billy Julia Joe Judy Bruce Sophia Gabriel "
    "Grace Logan Denise Albert Amber Willie Doris Alan Marilyn Juan Danielle Wayne Beverly Elijah "
    "Isabella Randy Theresa Roy Diana Vincent Natalie Ralph Brittany Eugene Charlotte Russell "
    "Marie Bobby Kayla Mason Alexis Philip Lori Louis Zoë Søren Aiko Chen Priya Mateo Léa Yusuf"
).split()

LAST_NAMES = (  # noqa: SIM905 - a list of names reads best as text
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
    "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
    "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
    "Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales "
    "Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos "
    "Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes "
    "Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry "
    "Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons "
    "Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole "
    "Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall "
    "Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman "
    "Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw "
    "Snyder Mason Dixon Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone "
    "Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto "
    "Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters "
    "Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley "
    "Andrews Ray Berry Perkins Hoffman Johnston Matthews Peña Richards Willis Carpenter Lawrence "
    "O'Brien Vanderberg Nakamura Kowalski Müller Dubois Rossi Svensson Novak Haddad Okafor"
).split()

ORGANIZATIONS = (
    "Northwind Traders",
    "Contoso Ltd",
    "Fabrikam Inc",
    "Adventure Works",
    "Tailspin Toys",
    "Wide World Importers",
    "Blue Yonder Airlines",
    "Coho Winery",
    "Litware Inc",
    "Proseware",
    "Lucerne Publishing",
    "Margie's Travel",
    "Alpine Ski House",
    "Fourth Coffee",
    "Graphic Design Institute",
    "Humongous Insurance",
    "Trey Research",
    "Wingtip Toys",
    "Woodgrove Bank",
    "Relecloud",
    "Southridge Video",
    "City Power & Light",
    "Consolidated Messenger",
    "Oral Health Solutions",
    "Acme Corporation",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Logistics",
    "Wayne Foundation",
    "Hooli",
    "Pied Piper",
    "Vandelay Industries",
    "Soylent Foods",
    "Cyberdyne Systems",
    "Massive Dynamic",
    "Aperture Labs",
    "Black Mesa Research",
    "Gringotts Advisory",
    "Oceanic Airlines",
)

JOB_TITLES = (
    "CEO",
    "CTO",
    "Founder",
    "Office Manager",
    "Account Executive",
    "Customer Success Manager",
    "Support Engineer",
    "Technical Support",
    "Software Engineer",
    "Product Manager",
    "Marketing Director",
    "Sales Representative",
    "Operations Lead",
    "Head of Finance",
    "Purchasing Manager",
    "Designer",
    "Consultant",
    "IT Administrator",
    "Project Coordinator",
    "VP of Sales",
)

CITIES = (
    "Boston, MA",
    "San Francisco Bay Area",
    "New York, NY",
    "Austin, TX",
    "Chicago, IL",
    "Seattle, WA",
    "Denver, CO",
    "Toronto, Canada",
    "London, United Kingdom",
    "Berlin, Germany",
    "Amsterdam, Netherlands",
    "Sydney, Australia",
)

PERSONAL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "aol.com",
    "fastmail.com",
)

AREA_CODES = (212, 303, 312, 415, 512, 617, 646, 702, 206, 213, 305, 404, 503, 720, 808)

#: Customers are spread over this span before the moment of seeding, oldest first.
HISTORY = timedelta(days=5 * 365)


def customers(count: int, now: datetime, *, start: int = 0, seed: int = 1) -> Iterator[Customer]:
    """`count` new customers numbered from `start`, created in order over `HISTORY` before
    `now` (whole seconds), each modified at its creation or some time after it."""
    rng = random.Random(f"{seed}:{start}")
    now = now.replace(microsecond=0)
    first_moment = now - HISTORY
    span = HISTORY.total_seconds()
    for offset in range(count):
        number = start + offset
        created = first_moment + timedelta(seconds=int(span * offset / max(count, 1)))
        modified = created
        if rng.random() < 0.5:
            modified = min(now, created + timedelta(seconds=rng.randrange(1, 365 * 86400)))
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        organization = rng.choice(ORGANIZATIONS) if rng.random() < 0.5 else None
        local = f"{_ascii(first)}.{_ascii(last)}{number}"
        domain = _domain(organization) if organization else rng.choice(PERSONAL_DOMAINS)
        emails = [Entry(None, f"{local}@{domain}", "work" if organization else "home")]
        if rng.random() < 0.2:
            personal = f"{_ascii(first)[0]}{_ascii(last)}{number}@{rng.choice(PERSONAL_DOMAINS)}"
            emails.append(Entry(None, personal, "home"))
        phones = []
        if rng.random() < 0.6:
            phone = f"+1 ({rng.choice(AREA_CODES)}) 555-{rng.randrange(100, 200):04d}"
            phones.append(Entry(None, phone, rng.choice(("work", "mobile", "home"))))
        yield Customer(
            id=None,
            created_at=created,
            modified_at=modified,
            first_name=first,
            last_name=last,
            organization=organization,
            job_title=rng.choice(JOB_TITLES) if rng.random() < 0.4 else None,
            location=rng.choice(CITIES) if rng.random() < 0.3 else None,
            emails=tuple(emails),
            phones=tuple(phones),
        )


def _ascii(name: str) -> str:
    """A name as it appears in an address: accents dropped, letters only, lower case."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(char for char in plain.lower() if char.isalpha()) or "x"


def _domain(organization: str) -> str:
    return f"{_ascii(organization)}.example"
