from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from accounts import security

        user_logged_in.connect(security.log_login, dispatch_uid="accounts.security.log_login")
        user_login_failed.connect(security.log_login_failure, dispatch_uid="accounts.security.log_login_failure")
        user_locked_out.connect(security.log_lockout, dispatch_uid="accounts.security.log_lockout")
