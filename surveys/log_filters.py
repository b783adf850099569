"""Keeps survey links out of the logs: a family's link holds the token that opens its survey,
and Django logs the path of a refused or failed request ("Not Found: /s/<token>/")."""

import logging
import re

SURVEY_LINK = re.compile(r"(?<![\w.-])/s/[\w-]+")


class HideSurveyTokens(logging.Filter):
    """Writes `/s/…` for the token of any survey link in a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/s/" in message:
            record.msg, record.args = SURVEY_LINK.sub("/s/…", message), ()
        return True
