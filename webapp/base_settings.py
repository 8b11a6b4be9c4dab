"""What every settings module starts from: the checkout's folders, the environment, and DEBUG.

`webapp.settings` and the modules beside it that hold one subject each (security_settings.py,
celery_settings.py) read the environment through this one `env`, after `.env` has been read into
it, and make their defaults follow the same DEBUG.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
