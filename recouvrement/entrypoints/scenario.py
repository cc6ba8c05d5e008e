"""A synthetic accounting ledger that evolves day by day, for the demo, the
tests and the benchmarks.

`DemoLedger.generate` draws debtors (French companies, consumers and public
bodies) and their invoices, each with a planned payment that follows the
debtor's behaviour; `snapshot(day)` is what the accounting software would
export that morning, and `write_exports` drops it into an inbox as CSV.
Everything is seeded and vectorised: a million invoices take seconds.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

CUSTOMER_COLUMNS = [
    "account", "name", "email", "phone", "kind", "siren", "language",
    "address", "postcode", "city", "country", "payment_terms_days",
    "collective_proceedings_since", "blocked", "legal_form",
]
INVOICE_COLUMNS = [
    "invoice_number", "account", "issue_date", "due_date", "amount",
    "open_amount", "currency", "export_date",
]

KINDS = ("B2B", "B2C", "PUBLIC")
KIND_WEIGHTS = (0.80, 0.15, 0.05)
BEHAVIOURS = ("good", "late", "defaulter", "partial")
BEHAVIOUR_WEIGHTS = (0.55, 0.30, 0.12, 0.03)
HISTORY_DAYS = 90  # invoices start this many days before `start`

# How exports are written: French accounting software (Windows, BOM, CRLF) or plain.
CSV_STYLES = {
    "fr": {"sep": ";", "decimal": ",", "date_format": "%d/%m/%Y", "encoding": "utf-8-sig", "lineterminator": "\r\n"},
    "iso": {"sep": ",", "decimal": ".", "date_format": "%Y-%m-%d", "encoding": "utf-8", "lineterminator": "\n"},
}


# Rows that validation must quarantine, with the reason each should get.
# Invoice rows are keyed by invoice_number ("" is the row without one), the
# customer rows by account.
BAD_INVOICE_ROWS: dict[str, str] = {
    "FBAD-0001": "negative_amount",
    "FBAD-0002": "open_amount_exceeds_amount",
    "FBAD-0003": "due_date_before_issue_date",
    "FBAD-0004": "unknown_account",
    "FBAD-0005": "unknown_currency",
    "FBAD-0006": "duplicate_invoice_number",  # appears twice, both rows bad
    "": "missing_invoice_number",
    "FBAD-0008": "invalid_date",
}
BAD_CUSTOMER_ROWS: dict[str, str] = {
    "411BADMAIL": "invalid_email",
    "411BADKIND": "invalid_kind",
}
UNKNOWN_ACCOUNT = "411INCONNU"

SURNAMES = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent "
    "Simon Michel Lefèvre Leroy Roux David Bertrand Morel Fournier Girard "
    "Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Lefebvre Faure "
    "André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand "
    "Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu "
    "Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer "
    "Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard "
    "Barbier Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin "
    "Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix "
    "Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland"
).split()
FIRST_NAMES = (
    "Marie Jean Pierre Michel Nathalie Isabelle Philippe Sylvie Catherine "
    "Alain Françoise Nicolas Christophe Sophie Stéphane Valérie Hélène "
    "Patrick Céline Julien Camille Léa Hugo Chloé Thomas Manon Lucas Emma "
    "Gabriel Inès Louis Jade Raphaël Zoé Arthur Élodie Mathieu Aurélie"
).split()
EN_SURNAMES = "Smith Jones Taylor Brown Williams Wilson Evans Walker".split()
EN_FIRST_NAMES = "James Emily Oliver Charlotte Jack Sarah George Hannah".split()
TRADES = (
    "Boulangerie", "Transports", "Menuiserie", "Plomberie", "Garage",
    "Imprimerie", "Électricité", "Maçonnerie", "Restaurant", "Fromagerie",
    "Librairie", "Quincaillerie", "Couverture", "Paysages", "Informatique",
    "Conseil", "Traiteur", "Vins et Spiritueux", "Textiles", "Charpente",
    "Carrosserie", "Boucherie", "Nettoyage", "Architecture",
)
FORMS = ("SARL", "SAS", "SA", "EURL")
FORM_WEIGHTS = (0.35, 0.40, 0.10, 0.15)
PUBLIC_BODIES = (
    "Commune", "Centre hospitalier", "Centre communal d'action sociale",
    "Syndicat intercommunal des eaux", "Office de tourisme",
)
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo",
    "place de la Mairie", "rue du Général de Gaulle", "impasse des Lilas",
    "chemin des Vignes", "rue Pasteur", "allée des Tilleuls",
    "rue de l'Église", "quai de la Loire", "avenue de la Gare",
    "rue des Écoles", "route de Paris", "rue Émile Zola", "cours Lafayette",
)
# city, postcode, telephone zone (01 Île-de-France … 05 south-west)
CITIES = (
    ("Paris", "75011", 1), ("Paris", "75015", 1), ("Boulogne-Billancourt", "92100", 1),
    ("Lyon", "69003", 4), ("Villeurbanne", "69100", 4), ("Marseille", "13008", 4),
    ("Aix-en-Provence", "13090", 4), ("Nice", "06000", 4), ("Toulon", "83000", 4),
    ("Grenoble", "38000", 4), ("Annecy", "74000", 4), ("Montpellier", "34000", 4),
    ("Nîmes", "30000", 4), ("Saint-Étienne", "42000", 4), ("Clermont-Ferrand", "63000", 4),
    ("Toulouse", "31000", 5), ("Bordeaux", "33000", 5), ("Perpignan", "66000", 4),
    ("Limoges", "87000", 5), ("Nantes", "44000", 2), ("Rennes", "35000", 2),
    ("Brest", "29200", 2), ("Angers", "49000", 2), ("Le Mans", "72000", 2),
    ("Tours", "37000", 2), ("Caen", "14000", 2), ("Rouen", "76000", 2),
    ("Le Havre", "76600", 2), ("Orléans", "45000", 2), ("Lille", "59000", 3),
    ("Amiens", "80000", 3), ("Reims", "51100", 3), ("Strasbourg", "67000", 3),
    ("Metz", "57000", 3), ("Nancy", "54000", 3), ("Mulhouse", "68100", 3),
    ("Dijon", "21000", 3), ("Besançon", "25000", 3),
)


def luhn_check_digit(body: np.ndarray) -> np.ndarray:
    """Luhn check digit of each row of `body`, an (n, k) array of digits.

    The digit appended makes the whole number Luhn-valid, as INSEE builds
    SIREN numbers: from the right, every second digit is doubled.
    """
    doubled = np.zeros(body.shape[1], dtype=bool)
    doubled[::-1][::2] = True  # rightmost body digit sits next to the check digit
    digits = np.where(doubled, body * 2, body)
    digits = np.where(digits > 9, digits - 9, digits)
    return (10 - digits.sum(axis=1) % 10) % 10


def _sirens(rng: np.random.Generator, leading: np.ndarray) -> np.ndarray:
    """Unique Luhn-valid SIREN strings, starting with the `leading` digits."""
    body = rng.integers(0, 10, size=(len(leading), 8))
    body[:, 0] = leading
    digits = np.column_stack([body, luhn_check_digit(body)])
    number = digits @ (10 ** np.arange(8, -1, -1))
    sirens = pd.Series(number).astype(str).str.zfill(9).to_numpy(dtype=object)
    seen: set[str] = set()
    for i, siren in enumerate(sirens):  # a few collisions per 100,000 debtors
        while siren in seen:
            body = np.concatenate([[leading[i]], rng.integers(0, 10, 7)])[None, :]
            siren = "".join(map(str, body[0])) + str(luhn_check_digit(body)[0])
        seen.add(siren)
        sirens[i] = siren
    return sirens


def _ascii_upper(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.upper() if c.isalpha())


def _of(city: str) -> str:
    """French 'de' with its elision and contraction: d'Angers, du Havre."""
    if city.startswith("Le "):
        return "du " + city[3:]
    if _ascii_upper(city[:1]) in "AEIOUH":
        return "d'" + city
    return "de " + city


def _pick(rng, options, size, weights=None) -> np.ndarray:
    p = None if weights is None else np.asarray(weights) / np.sum(weights)
    return rng.choice(len(options), size=size, p=p)


def _debtors(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Debtor master data plus a `behaviour` column the exports leave out."""
    kind = np.array(KINDS)[_pick(rng, KINDS, n, KIND_WEIGHTS)]
    behaviour = np.array(BEHAVIOURS)[_pick(rng, BEHAVIOURS, n, BEHAVIOUR_WEIGHTS)]
    english = (rng.random(n) < 0.02) & (kind != "PUBLIC")
    if n >= 10 and not english.any():
        english[np.flatnonzero(kind != "PUBLIC")[:1]] = True
    surname = _pick(rng, SURNAMES, n)
    surname2 = (surname + rng.integers(1, len(SURNAMES), n)) % len(SURNAMES)  # never "Roux & Roux"
    first, en_surname = _pick(rng, FIRST_NAMES, n), _pick(rng, EN_SURNAMES, n)
    en_first = _pick(rng, EN_FIRST_NAMES, n)
    trade, form = _pick(rng, TRADES, n), _pick(rng, FORMS, n, FORM_WEIGHTS)
    pattern, body = rng.integers(0, 4, n), _pick(rng, PUBLIC_BODIES, n)
    city = _pick(rng, CITIES, n)
    street, number = _pick(rng, STREETS, n), rng.integers(1, 160, n)
    phone_digits = rng.integers(0, 100, size=(n, 4))
    mobile = rng.random(n) < 0.5
    no_email, on_fr = rng.random(n) < 0.04, rng.random(n) < 0.5
    terms = np.where(kind == "PUBLIC", 30, np.array([30, 45, 60])[_pick(rng, (0, 1, 2), n, (0.5, 0.3, 0.2))])

    rows, taken = [], Counter()
    for i in range(n):
        town, postcode, zone = CITIES[city[i]]
        fam = EN_SURNAMES[en_surname[i]] if english[i] else SURNAMES[surname[i]]
        given = EN_FIRST_NAMES[en_first[i]] if english[i] else FIRST_NAMES[first[i]]
        if kind[i] == "PUBLIC":
            name, stem, mailbox = f"{PUBLIC_BODIES[body[i]]} {_of(town)}", town, "mandatement"
        elif kind[i] == "B2C":
            name, stem, mailbox = f"{given} {fam}", fam, _ascii_upper(given).lower()
        else:
            company = (
                f"{TRADES[trade[i]]} {fam}", f"{fam} et Fils",
                f"{fam} & {SURNAMES[surname2[i]]}", f"{TRADES[trade[i]]} {fam}",
            )[pattern[i]]
            if english[i]:
                company = f"{fam} & Partners"
            name = f"{company} {FORMS[form[i]]}" if pattern[i] % 2 else f"{FORMS[form[i]]} {company}"
            stem, mailbox = fam, "accounts" if english[i] else "compta"
        base = "411" + _ascii_upper(stem)[:10]
        taken[base] += 1
        account = base if taken[base] == 1 else f"{base}{taken[base]}"
        local = f"{mailbox}.{account[3:].lower()}"
        email = None if no_email[i] else f"{local}@{'example.fr' if on_fr[i] else 'example.com'}"
        # Half the consumers and small firms give a mobile (the manager's): SMS can reach them.
        prefix = f"0{6 + (i % 2)}" if kind[i] != "PUBLIC" and mobile[i] else f"0{zone}"
        phone = prefix + " " + " ".join(f"{d:02d}" for d in phone_digits[i])
        rows.append((account, name, email, phone, f"{number[i]} {STREETS[street[i]]}", postcode, town))

    frame = pd.DataFrame(rows, columns=["account", "name", "email", "phone", "address", "postcode", "city"])
    # INSEE: public bodies' SIREN start with 2, companies' with 3 to 9
    leading = np.where(kind == "PUBLIC", 2, rng.integers(3, 10, n))
    siren = _sirens(rng, leading)
    frame.insert(4, "kind", kind)
    frame.insert(5, "siren", np.where(kind == "B2C", None, siren))
    frame.insert(6, "language", np.where(english, "en", "fr"))
    frame["country"] = "FR"
    frame["payment_terms_days"] = terms
    frame["collective_proceedings_since"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    frame["blocked"] = "no"
    # The form the name shows: a commercial company is a trader (the court of its claims).
    frame["legal_form"] = [FORMS[form[i]] if kind[i] == "B2B" else None for i in range(n)]
    frame["behaviour"] = behaviour
    return frame


def _invoices(rng, debtors: pd.DataFrame, start: date, days: int, per_debtor: float) -> pd.DataFrame:
    """All invoices of the period with their planned payment (if any)."""
    n = len(debtors)
    count = 1 + rng.poisson(max(per_debtor - 1.0, 0.0), n)
    owner = np.repeat(np.arange(n), count)
    m = len(owner)
    origin = np.datetime64(start, "D")
    issued = origin + rng.integers(-HISTORY_DAYS, days + 1, m).astype("timedelta64[D]")
    issued = np.busday_offset(issued, 0, roll="backward")  # invoices go out on weekdays
    order = np.argsort(issued, kind="stable")
    owner, issued = owner[order], issued[order]
    due = issued + debtors["payment_terms_days"].to_numpy()[owner].astype("timedelta64[D]")
    cents = np.clip(np.round(rng.lognormal(np.log(1800.0), 1.0, m) * 100), 5_000, 50_000_000).astype(np.int64)

    behaviour = debtors["behaviour"].to_numpy()[owner]
    early = rng.integers(0, 21, m).astype("timedelta64[D]")
    late = rng.integers(5, 41, m).astype("timedelta64[D]")
    partial_delay = rng.integers(0, 31, m).astype("timedelta64[D]")
    share = rng.uniform(0.3, 0.7, m)
    paid_on = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
    good = behaviour == "good"
    paid_on[good] = np.maximum(due[good] - early[good], issued[good] + 1)
    is_late = behaviour == "late"
    paid_on[is_late] = due[is_late] + late[is_late]
    part = behaviour == "partial"
    paid_on[part] = due[part] + partial_delay[part]
    paid_cents = np.where(np.isnat(paid_on), 0, cents)
    paid_cents[part] = np.minimum(np.round(cents[part] * share[part]), cents[part] - 1)

    year = issued.astype("datetime64[Y]")
    first_of_year = np.searchsorted(year, year, side="left")
    sequence = np.arange(m) - first_of_year + 1
    numbers = pd.Series(year.astype(str), dtype=str)
    numbers = "F" + numbers + "-" + pd.Series(sequence, dtype=str).str.zfill(6)
    return pd.DataFrame({
        "invoice_number": numbers,
        "account": debtors["account"].to_numpy()[owner],
        "issue_date": issued.astype("datetime64[us]"),
        "due_date": due.astype("datetime64[us]"),
        "amount_cents": cents,
        "paid_on": paid_on.astype("datetime64[us]"),
        "paid_cents": paid_cents.astype(np.int64),
        "behaviour": behaviour,
    })


@dataclass
class DemoLedger:
    """A seeded ledger: debtors, invoices and the payments planned for them."""

    start: date
    days: int
    seed: int
    debtors: pd.DataFrame = field(repr=False)
    invoices: pd.DataFrame = field(repr=False)
    bad_rows_written: bool = False

    @classmethod
    def generate(cls, n_debtors: int, start: date, *, seed: int = 7,
                 invoices_per_debtor: float = 3.0, days: int = 60) -> DemoLedger:
        if n_debtors < 2:
            raise ValueError("a demo ledger needs at least 2 debtors")
        rng = np.random.default_rng(seed)
        debtors = _debtors(rng, n_debtors)
        invoices = _invoices(rng, debtors, start, days, invoices_per_debtor)
        _mark_special_debtors(rng, debtors, invoices, start)
        return cls(start=start, days=days, seed=seed, debtors=debtors, invoices=invoices)

    def snapshot(self, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The customers and open-items exports as of the morning of `day`."""
        when = pd.Timestamp(day)
        inv = self.invoices
        paid = np.where(inv["paid_on"].to_numpy() <= when.to_datetime64(), inv["paid_cents"].to_numpy(), 0)
        open_cents = inv["amount_cents"].to_numpy() - paid
        keep = (inv["issue_date"].to_numpy() <= when.to_datetime64()) & (open_cents > 0)
        items = inv.loc[keep, ["invoice_number", "account", "issue_date", "due_date"]].reset_index(drop=True)
        items["amount"] = inv["amount_cents"].to_numpy()[keep] / 100
        items["open_amount"] = open_cents[keep] / 100
        items["currency"] = "EUR"
        items["export_date"] = pd.Series(when, index=items.index).astype("datetime64[us]")
        return self.debtors[CUSTOMER_COLUMNS].copy(), items[INVOICE_COLUMNS]

    def write_exports(self, day: date, inbox: Path, *, style: str = "fr",
                      bad_rows: bool = False) -> list[Path]:
        """Write `customers_YYYYMMDD.csv` and `invoices_YYYYMMDD.csv` into `inbox`.

        `style="fr"` is what French accounting software writes (`;`, decimal
        comma, DD/MM/YYYY, UTF-8 with BOM, CRLF); `style="iso"` is plain CSV.
        With `bad_rows`, the first export written by this ledger also carries
        the invalid rows of BAD_INVOICE_ROWS and BAD_CUSTOMER_ROWS.
        """
        if style not in CSV_STYLES:
            raise ValueError(f"unknown export style {style!r}: use 'fr' or 'iso'")
        inbox = Path(inbox)
        inbox.mkdir(parents=True, exist_ok=True)
        customers, invoices = self.snapshot(day)
        extra_customers = extra_invoices = None
        if bad_rows and not self.bad_rows_written:
            extra_customers, extra_invoices = self._bad_rows(day, style)
            self.bad_rows_written = True
        stamp = day.strftime("%Y%m%d")
        paths = [inbox / f"customers_{stamp}.csv", inbox / f"invoices_{stamp}.csv"]
        for path, frame, extra in zip(paths, (customers, invoices), (extra_customers, extra_invoices)):
            _write_csv(path, frame, extra, style)
        return paths

    def payments_between(self, after: date, until: date) -> pd.DataFrame:
        """Payments received after `after` up to and including `until`."""
        inv = self.invoices
        hit = (inv["paid_on"] > pd.Timestamp(after)) & (inv["paid_on"] <= pd.Timestamp(until))
        paid = inv.loc[hit, ["account", "invoice_number", "paid_on", "paid_cents", "amount_cents"]]
        return pd.DataFrame({
            "account": paid["account"], "invoice_number": paid["invoice_number"],
            "paid_on": paid["paid_on"], "amount": paid["paid_cents"] / 100,
            "settled": paid["paid_cents"] == paid["amount_cents"],
        }).sort_values(["paid_on", "account", "invoice_number"]).reset_index(drop=True)

    def _bad_rows(self, day: date, style: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Invalid rows, already formatted as text in the export's style."""
        fmt = CSV_STYLES[style]
        ok = self.debtors.loc[
            self.debtors["collective_proceedings_since"].isna() & (self.debtors["blocked"] == "no"), "account"
        ].iloc[0]
        dates = {k: (day - timedelta(days=k)).strftime(fmt["date_format"]) for k in (10, 40, 70)}
        bad_date = "31/02/" + str(day.year) if style == "fr" else f"{day.year}-02-31"

        def money(x: float) -> str:
            return f"{x:.2f}".replace(".", fmt["decimal"])

        def row(number, account, amount, open_amount, currency="EUR", issue=dates[70], due=dates[40]):
            return [number, account, issue, due, money(amount), money(open_amount), currency, day.strftime(fmt["date_format"])]

        invoices = pd.DataFrame([
            row("FBAD-0001", ok, -150.0, -150.0),
            row("FBAD-0002", ok, 100.0, 150.0),
            row("FBAD-0003", ok, 480.0, 480.0, issue=dates[10], due=dates[40]),
            row("FBAD-0004", UNKNOWN_ACCOUNT, 720.0, 720.0),
            row("FBAD-0005", ok, 310.0, 310.0, currency="EUX"),
            row("FBAD-0006", ok, 1200.0, 1200.0),
            row("FBAD-0006", ok, 2100.0, 2100.0),
            row("", ok, 530.0, 530.0),
            row("FBAD-0008", ok, 640.0, 640.0, issue=bad_date),
        ], columns=INVOICE_COLUMNS)
        template = self.debtors.loc[self.debtors["account"] == ok, CUSTOMER_COLUMNS].iloc[0].to_dict()
        customers = pd.DataFrame([
            {**template, "account": "411BADMAIL", "name": "Dupont Frères SARL",
             "email": "compta.dupont@@example", "siren": "732829320"},
            {**template, "account": "411BADKIND", "name": "Martin Services SAS",
             "email": "compta.badkind@example.fr", "kind": "B2X", "siren": "552100554"},
        ], columns=CUSTOMER_COLUMNS)
        return customers, invoices


def _mark_special_debtors(rng, debtors: pd.DataFrame, invoices: pd.DataFrame, start: date) -> None:
    """One B2B debtor in collective proceedings, another blocked: both owe old invoices."""
    old = invoices.loc[invoices["issue_date"] <= pd.Timestamp(start - timedelta(days=45)), "account"]
    has_old = debtors["account"].isin(old).to_numpy()
    b2b = (debtors["kind"] == "B2B").to_numpy()
    pool = np.flatnonzero(has_old & b2b)
    if len(pool) < 2:
        pool = np.flatnonzero(has_old) if has_old.sum() >= 2 else np.arange(len(debtors))
    proceedings, blocked = rng.choice(pool, size=2, replace=False)
    debtors.loc[proceedings, "collective_proceedings_since"] = pd.Timestamp(start - timedelta(days=30))
    debtors.loc[blocked, "blocked"] = "yes"
    # L622-7: once proceedings open, the debtor may no longer pay earlier debts
    for index in (proceedings, blocked):
        debtors.loc[index, "behaviour"] = "defaulter"
        mine = (invoices["account"] == debtors.at[index, "account"]).to_numpy()
        invoices.loc[mine, "paid_on"] = pd.NaT
        invoices.loc[mine, "paid_cents"] = 0
        invoices.loc[mine, "behaviour"] = "defaulter"


def _write_csv(path: Path, frame: pd.DataFrame, extra: pd.DataFrame | None, style: str) -> None:
    fmt = CSV_STYLES[style]
    options = dict(sep=fmt["sep"], index=False, lineterminator=fmt["lineterminator"])
    # one handle, so the BOM is written once even with the extra rows appended
    with open(path, "w", encoding=fmt["encoding"], newline="") as handle:
        frame.to_csv(handle, decimal=fmt["decimal"], float_format="%.2f",
                     date_format=fmt["date_format"], **options)
        if extra is not None:
            extra.to_csv(handle, header=False, **options)
