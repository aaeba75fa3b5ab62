# ArBot with every package of the workspace (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY . /src
RUN pip install --no-cache-dir /src/arbot-core /src/arbot-strategies/* /src/arbot-connectors/* \
        /src/arbot-storage/* && rm -rf /src
ENTRYPOINT ["arbot"]
