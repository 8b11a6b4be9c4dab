# One image for web, worker, beat and the demo simulator.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Exactly the lock file: every transitive dependency pinned, each download checked against its hash.
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .
# collectstatic needs settings to load; these throwaway values never reach a running container.
RUN SECRET_KEY=build-only-throwaway-key-as-long-as-the-settings-ask-0123456789 FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktLS0tLS0tLS0tLS0tLS0tLS0= \
    python manage.py collectstatic --no-input

RUN useradd --create-home --uid 1000 console && mkdir -p /app/var/metrics && chown -R console /app/var
USER console

EXPOSE 8000
# gthread workers, timeouts, recycling and trusted proxies: gunicorn.conf.py (WEB_CONCURRENCY, GUNICORN_THREADS).
CMD ["gunicorn", "webapp.wsgi", "-c", "gunicorn.conf.py"]
