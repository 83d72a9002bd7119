"""SMTP submission: STARTTLS on 587 or implicit TLS on 465, certificates always verified."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from ..config import SmtpConfig


class MailError(Exception):
    """Sending failed; `transient` says whether a later try may succeed. The message holds no password."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.ca_file or None)


def send_mail(config: SmtpConfig, message: EmailMessage) -> None:
    """Send one message; raise MailError (never with the password in it)."""
    try:
        if config.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                                    context=tls_context(config))
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            client.ehlo()
            if config.security == "starttls":
                if not client.has_extn("starttls"):
                    raise MailError(f"{config.host} does not offer STARTTLS; refusing to send in clear", False)
                client.starttls(context=tls_context(config))
                client.ehlo()
            if config.username:
                client.login(config.username, config.password)
            refused = client.send_message(message)
        if refused:
            raise MailError(f"recipients refused: {', '.join(sorted(refused))}", False)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"SMTP authentication failed ({exc.smtp_code})", False) from None
    except smtplib.SMTPResponseException as exc:
        said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise MailError(f"SMTP {exc.smtp_code}: {said[:200]}",
                        400 <= exc.smtp_code < 500) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise MailError(f"all recipients refused ({codes})", all(400 <= c < 500 for c in codes)) from None
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, TLS failure, timeout, disconnect
        raise MailError(f"{type(exc).__name__}: {exc}"[:300], True) from None
