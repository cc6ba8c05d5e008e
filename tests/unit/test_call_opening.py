"""What an agency's collector says first on the phone (CPCE R124-4: every contact after the
first letter recalls its date and reference)."""

from datetime import date

import pytest

from recouvrement.domain.identity import SentLetter, call_opening

FIRST = SentLetter(date(2026, 10, 1), "<abc123@agence.example.com>", ("F1",))


@pytest.mark.parametrize("first, language, expected", [
    (FIRST, "fr", "Agence X, recouvrement amiable de créances, pour le compte de Créancier SAS. "
                  "Suite à notre lettre du 01/10/2026, référence abc123@agence.example.com."),
    (None, "fr", "Agence X, recouvrement amiable de créances, pour le compte de Créancier SAS."),
    (FIRST, "en", "Agence X, a debt collection agency, calling on behalf of Créancier SAS. "
                  "Further to our letter of 01/10/2026, reference abc123@agence.example.com."),
])
def test_the_opening_names_the_agency_the_creditor_and_the_first_letter(first, language, expected):
    assert call_opening("Agence X", "Créancier SAS", first, language=language) == expected
