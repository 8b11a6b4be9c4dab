# One image for web, worker, beat and the demo simulator.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings to load; these throwaway values never reach a running container.
RUN SECRET_KEY=build-only-throwaway-key-as-long-as-the-settings-ask-0123456789 FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktLS0tLS0tLS0tLS0tLS0tLS0= \
    python manage.py collectstatic --no-input

RUN useradd --create-home --uid 1000 console && mkdir -p /app/var && chown console /app/var
USER console

EXPOSE 8000
CMD ["gunicorn", "webapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
