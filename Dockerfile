# syntax=docker/dockerfile:1
# Node 22 LTS (Node 20 reached end of life in April 2026). The code also runs on Node 20.19+.
ARG NODE_IMAGE=node:22-slim

# deps: every dependency, needed to compile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# build: tsc -p tsconfig.build.json → dist/ (plain JavaScript; no tsx at run time, see ADR 0006).
# The phone simulator and the dev console are compiled too (one tsconfig) and removed here: the
# composition root imports them only when NODE_ENV is not production, and the image is production.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && rm -rf dist/dev dist/telephony/simulator

# tools: the owner's command-line tools (`npm run audit -- migrate | retain | verify`, run by compose's
# one-shot audit-migrate service and the daily retain), with tsx; never the image the app runs.
FROM deps AS tools
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
USER node
ENTRYPOINT ["npm", "run", "--silent"]

# prod-deps: production dependencies only, installed apart so no dev tooling (tsx, ioredis-mock,
# fast-xml-parser, the test and lint tools) reaches the image.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the app user: the process never writes its own code or fixtures.
# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The flow files, not their conversation tests (flows/tests).
COPY flows/*.yaml ./flows/
# The demo bank and its statements: used only when BANK_DATA_FILE / STATEMENTS_DIR point at them.
COPY data ./data
USER node
EXPOSE 3000
# node:22-slim has no curl; Node has fetch.
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
