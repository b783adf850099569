"""Reading phone numbers as people and student information systems write them."""

import phonenumbers


def phone_e164(raw: str, country: str) -> str | None:
    """The number in E.164 (`+16175550123`), read with the country's local conventions; None
    when it is not a valid number there."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
