"""Why a row is in quarantine, in French, and how to fix it in the accounting software.

Validation writes its reasons in English (`validation.py`, `fec.py`,
`fec_items.py`, `reconcile.py`), and other code and tests rely on them as
they are. This catalogue reads them back for the credit manager's report:
each entry is a pattern over one English reason, with the French
explanation and the fix, which may quote what the pattern caught (the
column, the value, the lines). A reason no entry knows is shown as it is,
with a general advice: a new check never disappears from the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The canonical columns and the FEC's, as a credit manager names them.
COLUMN_LABELS = {
    "invoice_number": "le numéro de facture", "account": "le compte client",
    "issue_date": "la date de facture", "due_date": "la date d'échéance",
    "amount": "le montant TTC", "open_amount": "le reste dû", "currency": "la devise",
    "export_date": "la date de l'export", "document_type": "le type de pièce",
    "name": "le nom du client", "email": "l'adresse e-mail", "phone": "le téléphone",
    "kind": "le type de client", "siren": "le SIREN", "language": "la langue",
    "address": "l'adresse", "postcode": "le code postal", "city": "la ville",
    "country": "le pays", "payment_terms_days": "le délai de paiement",
    "collective_proceedings_since": "la date d'ouverture de la procédure collective",
    "blocked": "l'indicateur de blocage",
    "legal_form": "la forme juridique", "trader": "l'indicateur commerçant",
    "EcritureDate": "la date d'écriture (EcritureDate)", "PieceDate": "la date de pièce (PieceDate)",
    "Debit": "le débit (Debit)", "Credit": "le crédit (Credit)", "Montant": "le montant (Montant)",
    "Sens": "le sens (Sens)", "Montantdevise": "le montant en devise (Montantdevise)",
    "Idevise": "la devise (Idevise)", "CompAuxNum": "le compte auxiliaire (CompAuxNum)",
    "CompAuxLib": "le nom du compte auxiliaire (CompAuxLib)",
    "PieceRef": "la référence de pièce (PieceRef)",
}

# "X 'v' is not …": what the value should have been.
_EXPECTED = {
    "a date (YYYY-MM-DD or DD/MM/YYYY)": ("une date", "Exportez les dates au format JJ/MM/AAAA "
                                          "(ou AAAA-MM-JJ) et vérifiez la date saisie sur la pièce."),
    "a date": ("une date", "Saisissez une date réelle (JJ/MM/AAAA) dans la fiche, puis exportez de "
                           "nouveau."),
    "a date (YYYYMMDD)": ("une date au format AAAAMMJJ", "Régénérez le FEC depuis le logiciel "
                          "comptable sans le retoucher dans un tableur : les dates y sont écrites "
                          "AAAAMMJJ."),
    "an amount": ("un montant", "Vérifiez la saisie (lettre à la place d'un chiffre, deux virgules…) "
                                "et exportez les montants sans symbole ni texte."),
    "a whole number of days": ("un nombre entier de jours", "Indiquez le délai de paiement en jours "
                               "(30, 45, 60) dans la fiche du client."),
    "D or C": ("D (débit) ou C (crédit)", "Régénérez le FEC : la colonne Sens ne contient que D ou C "
                                          "(ou +1 / -1)."),
    "yes or no": ("oui ou non", "Indiquez oui ou non (yes / no) dans la colonne de blocage."),
}

_REEXPORT = "puis exportez de nouveau le fichier et déposez-le dans la boîte de dépôt"
_REEXPORT_SENTENCE = "Exportez ensuite de nouveau le fichier et déposez-le dans la boîte de dépôt."


@dataclass(frozen=True)
class Explanation:
    reason: str  # as validation wrote it
    text: str  # what is wrong, in French
    advice: str  # how to fix it in the accounting software
    known: bool  # False: the catalogue does not know this reason yet


def column_label(name: str) -> str:
    return COLUMN_LABELS.get(name, f"la colonne {name}")


def short_label(name: str) -> str:
    """`date d'écriture` for EcritureDate: the label without its article or the column's name."""
    label = COLUMN_LABELS.get(name)
    if label is None:
        return ""
    label = re.sub(r" \(\w+\)$", "", label)
    return re.sub(r"^(le |la |les |l')", "", label)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _not_a(m):
    what, fix = _EXPECTED.get(m["what"], (m["what"], "Corrigez la valeur dans le logiciel comptable."))
    return (f"{_cap(column_label(m['col']))} vaut {m['value']}, qui n'est pas {what}.",
            f"{fix} {_REEXPORT_SENTENCE}")


def _fixed(text: str, advice: str):
    return lambda m: (text.format(**m.groupdict()), advice.format(**m.groupdict()))


_CATALOGUE: list[tuple[re.Pattern, object]] = [
    (r"row has (?P<n>\d+) fields where the header has (?P<m>\d+)", _fixed(
        "La ligne compte {n} champs alors que l'en-tête en compte {m} : elle est coupée, ou un "
        "séparateur s'est glissé dans un libellé.",
        "Exportez de nouveau le fichier en entier ; si un libellé contient le séparateur, faites "
        "entourer les textes de guillemets (option « délimiteur de texte » de l'export) ou "
        "choisissez un autre séparateur.")),
    (r"(?P<col>\w+) (?P<value>'.*'|\".*\") is not (?P<what>.+)", _not_a),
    (r"(?P<col>\w+) (?P<value>'.*'|\".*\") is ambiguous: thousands separator or decimal mark\?",
     lambda m: (f"{_cap(column_label(m['col']))} vaut {m['value']} : rien dans le fichier ne dit "
                "si le point sépare les milliers ou les décimales.",
                "Exportez les montants avec deux décimales (1 234,00 ou 1234.00), sans séparateur "
                f"de milliers ambigu, {_REEXPORT}.")),
    (r"(?P<col>\w+) is longer than (?P<n>\d+) characters",
     lambda m: (f"{_cap(column_label(m['col']))} dépasse {m['n']} caractères : le registre ne peut "
                "pas le garder entier, et il n'est jamais tronqué.",
                "Raccourcissez ce champ dans la fiche (ou vérifiez qu'un texte n'a pas été collé "
                f"par erreur dans cette colonne), {_REEXPORT}.")),
    (r"(?P<col>\w+) starts like a spreadsheet formula \(= \+ - @\)",
     lambda m: (f"{_cap(column_label(m['col']))} commence par =, +, - ou @ : un tableur "
                "l'exécuterait comme une formule.",
                "Retirez ce signe en tête du champ dans la fiche du client (un nom ne commence pas "
                f"par =), {_REEXPORT}.")),
    (r"(?P<col>\w+) contains a control character \(line break, tab\.\.\.\)",
     lambda m: (f"{_cap(column_label(m['col']))} contient un caractère de contrôle (saut de "
                "ligne, tabulation…) : un identifiant ou un nom n'en contient jamais, et il "
                "fausserait les journaux et les noms de fichiers.",
                "Retirez le saut de ligne ou la tabulation de ce champ dans la fiche (souvent un "
                f"texte collé d'un autre document), {_REEXPORT}.")),
    (r"(?P<col>\w+) contains / \\ or \.\. : an account number is not a path",
     lambda m: (f"{_cap(column_label(m['col']))} contient /, \\ ou .. : un numéro de compte "
                "n'est pas un chemin de fichier.",
                "Donnez au client un compte fait de lettres et de chiffres (411DUPONT) dans le "
                f"plan tiers, {_REEXPORT}.")),
    (r"(?P<col>\w+) contains HTML markup",
     lambda m: (f"{_cap(column_label(m['col']))} contient du code HTML (balises < >) : il ne "
                "peut pas être repris tel quel dans les lettres.",
                f"Effacez les balises de ce champ dans la fiche, {_REEXPORT}.")),
    (r"(?P<col>\w+) is missing",
     lambda m: (f"{_cap(column_label(m['col']))} manque sur cette ligne.",
                f"Renseignez ce champ dans le logiciel comptable, {_REEXPORT}; si la colonne "
                "existe sous un autre titre, ajoutez ce titre à un profil de correspondance.")),
    (r"account appears twice in the file", _fixed(
        "Le même compte client figure deux fois dans le fichier des clients.",
        "Fusionnez les deux fiches (ou donnez-leur des comptes distincts) dans le plan tiers, "
        + _REEXPORT + ".")),
    (r"kind must be B2B, B2C or PUBLIC", _fixed(
        "Le type de client n'est ni professionnel (B2B), ni particulier (B2C), ni public (PUBLIC).",
        "Indiquez le type dans la fiche du client, ou ajoutez la valeur de votre logiciel à la "
        "rubrique « values » du profil de correspondance.")),
    (r"language must be fr or en", _fixed(
        "La langue du client n'est ni le français (fr) ni l'anglais (en).",
        "Corrigez la langue dans la fiche du client (fr ou en), " + _REEXPORT + ".")),
    (r"email is not an e-mail address", _fixed(
        "L'adresse e-mail n'a pas la forme d'une adresse (nom@domaine.fr).",
        "Corrigez l'adresse e-mail dans la fiche du client (une seule adresse, sans espace), "
        + _REEXPORT + ".")),
    (r"payment_terms_days must be between 0 and 365", _fixed(
        "Le délai de paiement n'est pas compris entre 0 et 365 jours.",
        "Corrigez le délai de paiement dans la fiche du client (la loi le limite à 60 jours entre "
        "professionnels, art. L441-10 du Code de commerce), " + _REEXPORT + ".")),
    (r"siren must be 9 digits \(or a 14-digit SIRET\)", _fixed(
        "Le SIREN n'a pas 9 chiffres (ni le SIRET 14).",
        "Corrigez le SIREN ou le SIRET dans la fiche du client (chiffres seulement), "
        + _REEXPORT + ".")),
    (r"siren fails its check digit \(Luhn\): a typing error\?", _fixed(
        "Le SIREN ne passe pas la clé de contrôle (formule de Luhn) : un chiffre est sans doute "
        "mal saisi.",
        "Vérifiez le SIREN sur l'avis de situation INSEE ou un extrait Kbis du client et "
        "corrigez-le dans sa fiche, " + _REEXPORT + ".")),
    (r"invoice_number appears more than once in the file with different amounts or details", _fixed(
        "Le même numéro de facture figure plusieurs fois dans le fichier, avec des montants ou des "
        "dates différents : on ne sait pas lequel croire.",
        "Recherchez ce numéro dans le logiciel comptable : une facture saisie deux fois ou deux "
        "échéances d'une même facture ? Corrigez la saisie, " + _REEXPORT + ".")),
    (r"invoice_number appears in another export of the same day \((?P<files>.+)\) with different "
     r"amounts or details", _fixed(
        "Cette facture figure aussi dans un autre export du même jour ({files}) avec d'autres "
        "montants : le registre garde ce qu'il avait.",
        "Ne déposez qu'un export par jour et par logiciel, ou corrigez l'écart entre les deux "
        "fichiers, puis déposez de nouveau le bon.")),
    (r"amount is negative", _fixed(
        "Le montant d'une facture est négatif.",
        "S'il s'agit d'un avoir, exportez-le comme avoir (type de pièce « Avoir ») ; sinon "
        "corrigez le montant de la pièce, " + _REEXPORT + ".")),
    (r"open_amount is negative and the row is not a credit note", _fixed(
        "Le reste dû est négatif alors que la pièce n'est pas un avoir : la facture a été trop "
        "payée ou mal lettrée.",
        "Lettrez le règlement avec la bonne facture dans le logiciel comptable (ou enregistrez le "
        "trop-perçu comme avoir), " + _REEXPORT + ".")),
    (r"open_amount is greater than amount", _fixed(
        "Le reste dû dépasse le montant de la facture.",
        "Vérifiez le montant TTC et le reste dû de la pièce dans le logiciel comptable (frais "
        "ajoutés sans nouvelle pièce ?), " + _REEXPORT + ".")),
    (r"due_date is before issue_date", _fixed(
        "La date d'échéance précède la date de facture.",
        "Corrigez l'échéance de la pièce (ou les conditions de paiement du client), "
        + _REEXPORT + ".")),
    (r"issue_date is after export_date", _fixed(
        "La facture est datée après la date de l'export.",
        "Vérifiez la date de la pièce (faute de frappe sur l'année ?) ou la date indiquée dans le "
        "nom du fichier, " + _REEXPORT + ".")),
    (r"currency is not an ISO 4217 code", _fixed(
        "La devise n'est pas un code ISO 4217 (EUR, USD, GBP…).",
        "Exportez la devise par son code à trois lettres (EUR plutôt que « € »), "
        + _REEXPORT + ".")),
    (r"account is not a known debtor \(absent from the customers exports\)", _fixed(
        "Le compte client de cette facture n'existe dans aucun export des clients.",
        "Créez ou complétez la fiche du client dans le plan tiers et déposez un export des clients "
        "(customers…) qui le contient ; la facture sera reprise au dépôt suivant.")),
    (r"document_type must be invoice, credit_note or payment.*", _fixed(
        "Le type de pièce n'est ni une facture, ni un avoir, ni un règlement.",
        "Exportez le type de pièce (Facture, Avoir, Règlement), ou ajoutez la valeur de votre "
        "logiciel à la rubrique « values » du profil de correspondance.")),
    (r"a credit note's or payment's open amount must not be owed by the debtor", _fixed(
        "Un avoir ou un règlement apparaît avec un reste dû à la charge du client.",
        "Vérifiez le signe du reste dû de cet avoir dans le logiciel comptable, " + _REEXPORT + ".")),
    (r"a credit note's open amount is more than its amount", _fixed(
        "Le solde de cet avoir dépasse son montant.",
        "Vérifiez le lettrage de l'avoir dans le logiciel comptable, " + _REEXPORT + ".")),
    (r"(?P<col>amount|open_amount|Montantdevise) has more than two decimals",
     lambda m: (f"{_cap(column_label(m['col']))} a plus de deux décimales : un montant se compte "
                "au centime.",
                "Arrondissez le montant au centime dans le logiciel (ou dans la formule du tableur "
                f"qui a produit le fichier), {_REEXPORT}.")),
    (r"Debit/Credit \(or Montant\) has more than two decimals", _fixed(
        "Le montant de l'écriture a plus de deux décimales.",
        "Régénérez le FEC depuis le logiciel comptable : il écrit les montants au centime.")),
    (r"Debit/Credit \(or Montant/Sens\) is missing or not an amount in cents", _fixed(
        "L'écriture n'a ni débit ni crédit lisible.",
        "Régénérez le FEC depuis le logiciel comptable sans le retoucher dans un tableur.")),
    (r"(?P<col>EcritureDate|PieceDate) is after the export date",
     lambda m: (f"{_cap(column_label(m['col']))} est postérieure à la date de l'export.",
                "Vérifiez la date de l'écriture, qui dépasse la date du jour, puis régénérez le "
                "FEC ; ou indiquez le jour de l'export (recouvrement ingest --export-date).")),
    (r"Idevise is not an ISO 4217 code", _fixed(
        "La devise de l'écriture (Idevise) n'est pas un code ISO 4217.",
        "Corrigez le code devise de l'écriture (EUR, USD…) et régénérez le FEC.")),
    (r"Montantdevise is missing for a line in a foreign currency", _fixed(
        "L'écriture est en devise étrangère mais son montant en devise manque.",
        "Renseignez le montant en devise de l'écriture et régénérez le FEC.")),
    (r"held back with line (?P<lines>[\d, ]+), which is quarantined: same piece or lettering "
     r"group \(loaded whole or not at all\)",
     _fixed(
        "Écriture mise de côté avec la ligne {lines}, en quarantaine, car elle appartient à la "
        "même pièce ou au même lettrage : une facture et ses règlements sont repris ensemble ou "
        "pas du tout.",
        "Corrigez la ligne {lines} (voir son motif) ; celle-ci sera reprise avec elle.")),
    (r"the piece mixes currencies \((?P<currencies>.+)\)", _fixed(
        "La pièce mélange plusieurs devises ({currencies}).",
        "Vérifiez la devise de chaque ligne de la pièce dans le logiciel comptable et régénérez "
        "le FEC.")),
    (r"PieceRef (?P<piece>.+) is open on several customer accounts", _fixed(
        "La pièce {piece} reste ouverte sur plusieurs comptes clients : on ne sait pas qui doit "
        "quoi.",
        "Lettrez la pièce sur chaque compte client, ou donnez une référence de pièce propre à "
        "chaque facture, puis régénérez le FEC.")),
]
_COMPILED = [(re.compile(rf"^{pattern}$", re.DOTALL), build) for pattern, build in _CATALOGUE]

FALLBACK_ADVICE = ("Corrigez la ligne dans le logiciel comptable d'après ce motif, puis exportez de "
                   "nouveau le fichier et déposez-le dans la boîte de dépôt.")


def explain(reason: str) -> Explanation:
    """The French explanation and fix of one reason; the reason itself when none is known."""
    for pattern, build in _COMPILED:
        match = pattern.match(reason)
        if match:
            text, advice = build(match)
            return Explanation(reason, text, advice, True)
    return Explanation(reason, f"Motif non traduit : {reason}", FALLBACK_ADVICE, False)
