# Rasa 3.6 (Python 3.10) for the bot, the trainer and the action server.
FROM python:3.10-slim
# Production unless told otherwise: an image run on its own refuses development secrets (docs/operations.md).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app:/app/bot RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 HF_HUB_OFFLINE=1 ENVIRONMENT=production
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY requirements/bot.txt requirements/bot-nodeps.txt requirements/
RUN pip install --no-cache-dir -r requirements/bot.txt \
 && pip install --no-cache-dir --no-deps -r requirements/bot-nodeps.txt
COPY bot bot
COPY actions actions
COPY scripts scripts
COPY api/privacy api/privacy
# The action server opens the service token the core sealed for it (standard library and cryptography only).
COPY api/__init__.py api/
COPY api/grants/__init__.py api/grants/sealing.py api/grants/
RUN useradd --system --uid 10001 bankbot && mkdir -p /app/var && chown bankbot /app/var
USER bankbot
EXPOSE 5005 5055
# Through scripts.rasa_serve: the secrets are checked before Rasa loads anything.
CMD ["python", "-m", "scripts.rasa_serve", "run", "--model", "/app/var/models/current.tar.gz", "--endpoints", "bot/endpoints.yml", \
     "--credentials", "bot/credentials.yml", "--port", "5005"]
