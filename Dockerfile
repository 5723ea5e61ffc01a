# edgedns node image: DNS on 53/udp+tcp, API on 8053. Build: docker build -t edgedns .
# Run:   docker run -p 53:53/udp -p 53:53/tcp -p 8053:8053 -v edgedns-data:/data edgedns

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm ci runs the "prepare" script, which compiles src/ to dist/
RUN npm ci --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production \
    EDGEDNS_DNS=0.0.0.0:53 \
    EDGEDNS_API=0.0.0.0:8053 \
    EDGEDNS_DATA=/data \
    EDGEDNS_ZONES=/app/zones
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY zones ./zones
RUN mkdir -p /data && chown node:node /data
# The unprivileged "node" user can bind port 53: Docker 20.10+ sets net.ipv4.ip_unprivileged_port_start=0 in the
# container's network namespace (on older engines add --sysctl net.ipv4.ip_unprivileged_port_start=0).
USER node
VOLUME /data
EXPOSE 53/udp 53/tcp 8053/tcp
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:8053/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
