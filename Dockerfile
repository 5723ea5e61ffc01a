# edgedns node image: DNS on 53/udp+tcp, the asset server on 80 and 443, the API on 8053 (docs/operations.md#docker).
#   docker build -t edgedns .
#   docker run -d -p 53:53/udp -p 53:53/tcp -p 80:80 -p 443:443 -p 127.0.0.1:8053:8053 -v edgedns-data:/data edgedns
# The sample zones and edges in /app/zones are imported only when asked: -e EDGEDNS_ZONES=/app/zones.
# Node 24 is the Active LTS line (Node 20 reaches its end of life in April 2026); -slim is Debian without the extras.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm ci runs the "prepare" script, which compiles src/ to dist/
RUN npm ci --no-audit --no-fund

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    EDGEDNS_DNS=0.0.0.0:53 \
    EDGEDNS_API=0.0.0.0:8053 \
    EDGEDNS_HTTP=0.0.0.0:80 \
    EDGEDNS_HTTPS=0.0.0.0:443 \
    EDGEDNS_DATA=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY zones ./zones
RUN mkdir -p /data && chown node:node /data
# DNS on IPv4 only inside the container: Docker publishes the port on the host's IPv6 addresses too, and a container
# network without IPv6 has no address for an IPv6 socket. The unprivileged "node" user (uid 1000) binds ports 53, 80 and 443: Docker 20.10+ sets
# net.ipv4.ip_unprivileged_port_start=0 in the container's network namespace (older engines:
# --sysctl net.ipv4.ip_unprivileged_port_start=0).
USER node
VOLUME /data
EXPOSE 53/udp 53/tcp 80/tcp 443/tcp 8053/tcp
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8053/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# docker stop sends SIGTERM: the node drains (--drain-timeout, 5 s) within Docker's 10 s grace; docker kill -s HUP reloads.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
