# syntax=docker/dockerfile:1
# The NoOrg silo. Build: docker build -t noorg-silo .   Run: see docs/deployment.md.
# tests/NoOrg.Tests/Deployment/DockerfileTests.cs checks this file's stages, user and ports against the
# settings' defaults and runs its publish command.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.nuget/packages \
    dotnet publish src/Silo/NoOrg.Silo.csproj -c Release -o /app --nologo
# The CLI rides along for the migration Job (deploy/k8s/base/migrate-job.yaml): dotnet /app/cli/noorg.dll db migrate
RUN --mount=type=cache,target=/root/.nuget/packages \
    dotnet publish src/Cli/NoOrg.Cli.csproj -c Release -o /app/cli --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
# The SQLite default needs a writable directory; a cluster sets NOORG_STORAGE_PROVIDER=postgres instead.
RUN mkdir -p /data && chown 1654:1654 /data
VOLUME /data
ENV NOORG_HTTP_URLS=http://0.0.0.0:8080 \
    NOORG_STORAGE_DATA_DIR=/data
# HTTP (health, dashboard), silo-to-silo, gateway: NOORG_HTTP_URLS, NOORG_CLUSTER_SILO_PORT, NOORG_CLUSTER_GATEWAY_PORT.
EXPOSE 8080 11111 30000
# The image's non-root "app" user (APP_UID); numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1654
# The runtime image has no curl: bash's /dev/tcp asks /health/ready.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "NoOrg.Silo.dll"]
