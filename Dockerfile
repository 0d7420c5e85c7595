# One image for web, worker and beat; the command differs per service (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY common common
COPY db db
COPY domain domain
COPY scheduler scheduler
COPY collectors collectors
COPY classifiers classifiers
COPY publishers publishers
COPY platforms platforms
COPY web web
COPY sandbox sandbox
COPY cli cli
RUN pip install --no-cache-dir . && useradd --create-home loa && mkdir -p /data/media && chown loa /data/media
USER loa
