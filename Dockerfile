# syntax=docker/dockerfile:1
# Switchyard API gateway.
#   docker build -t switchyard .          (the image; the npm package is switchyard-gateway)
#   docker run --rm -p 8080:8080 --stop-timeout 35 \
#     -v "$PWD/gateway.yaml:/etc/switchyard/gateway.yaml:ro" -v "$PWD/routes:/etc/switchyard/routes:ro" switchyard
#
# The admin API (9901) listens on 127.0.0.1 unless gateway.yaml says otherwise:
# to reach it from outside the container, set `admin: { host: 0.0.0.0, token: ... }`
# in the mounted config. The image never changes where admin listens.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: full dependencies, compile TypeScript to dist/ -------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: the package's `prepare` compiles src/, which is copied only
# below (so this layer stays cached across source edits). No C toolchain: the
# package has no native code.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY plugins ./plugins
RUN npm run build

# --- runtime: production dependencies and compiled output only ---------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SWITCHYARD_CONFIG=/etc/switchyard/gateway.yaml
WORKDIR /app
# Production dependencies are installed fresh here (never copied from the build
# stage, whose node_modules holds the dev tools).
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile src/ with tsc, a dev dependency; dist/ comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist ./dist
COPY schema ./schema
# The shipped example configuration, as defaults under /etc/switchyard; mount
# your own gateway.yaml and routes/ over them. Root-owned: the gateway only reads them.
COPY gateway.yaml /etc/switchyard/gateway.yaml
COPY routes /etc/switchyard/routes
VOLUME ["/etc/switchyard"]

USER node
EXPOSE 8080 9901
# Liveness through the admin /healthz (open even when admin.token is set), with
# node itself: the slim image has no curl. Override the URL with SWITCHYARD_HEALTHCHECK_URL
# when admin listens on another port.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const u=process.env.SWITCHYARD_HEALTHCHECK_URL||'http://127.0.0.1:9901/healthz';require('http').get(u,{timeout:3000},r=>{r.resume();process.exit(r.statusCode===200?0:1)}).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]
# SIGTERM drains in-flight requests for up to shutdownTimeout (30s by default):
# give `docker stop` more than that (--stop-timeout / stop_grace_period).
STOPSIGNAL SIGTERM
# Exec form: node is PID 1 and receives SIGTERM/SIGHUP directly (no shell in between).
ENTRYPOINT ["node", "--no-memory-reducer", "dist/src/cli/index.js"]
CMD ["start", "--config", "/etc/switchyard/gateway.yaml"]
