"""Reminder e-mails: rendering (render), sending (mailer) and a local SMTP sink (sink)."""
