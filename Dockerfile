# Homeward service image: slim Python, non-root user, SQLite on a volume, healthcheck on /livez.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    HOMEWARD_DATA_DIR=/data HOMEWARD_HOST=0.0.0.0 HOMEWARD_PORT=8000

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY forecast ./forecast
COPY optimise ./optimise
COPY api ./api
COPY models ./models
COPY homeward ./homeward
RUN pip install -c constraints.txt . \
    && useradd --create-home --uid 10001 homeward \
    && mkdir -p /data && chown homeward:homeward /data

USER homeward
VOLUME ["/data"]
EXPOSE 8000
# The port is HOMEWARD_PORT's, so `-e HOMEWARD_PORT=9000` is still checked where it listens. The
# first start loads the demo and runs the pipeline before it listens (about 2 minutes on 2 cores,
# more on 1), so the start period allows 10 minutes; the first answer ends it sooner. It asks
# /livez, which touches no database: a database outage must not get a live container called
# unhealthy and restarted (whether the database answers is /readyz's to tell a load balancer).
HEALTHCHECK --interval=30s --timeout=5s --start-period=600s --retries=3 \
    CMD python -c "import os, sys, urllib.request; port = os.environ.get('HOMEWARD_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/livez', timeout=4).status == 200 else 1)"

# First start loads the synthetic demo if the database is empty, runs the pipeline once, then serves.
CMD ["homeward", "demo", "--serve"]
