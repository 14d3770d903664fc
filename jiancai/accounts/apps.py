from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jiancai.accounts"
    verbose_name = "账户与机构"
