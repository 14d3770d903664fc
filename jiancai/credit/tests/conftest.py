from jiancai.accounts.tests.personas import *  # noqa: F403  (fixtures: world, logged_in, fast_password_hasher)
