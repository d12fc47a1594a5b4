-- The audit trail's roles and database (README → Production, docs/audit-events.md), run once by a
-- superuser before `npm run audit -- migrate`; idempotent, so re-running it only resets the two
-- passwords. compose's postgres-init runs it; by hand:
--
--   AUDIT_DB_OWNER_PASSWORD=… AUDIT_DB_APP_PASSWORD=… psql -h HOST -U postgres -v ON_ERROR_STOP=1 -f deploy/postgres/audit-roles.sql
--
-- The passwords come from the environment (\getenv, psql 15+), never the command line.
--   vaultline_owner  owns the database, the table, its day partitions and the partition function;
--                    runs `npm run audit -- migrate` and the daily `retain`. Not a superuser.
--   vaultline_app    the app's AUDIT_DATABASE_URL: INSERT and SELECT on the trail (granted by
--                    `migrate --app-role vaultline_app`), nothing it could UPDATE, DELETE or DROP.
\set ON_ERROR_STOP on
\getenv owner_password AUDIT_DB_OWNER_PASSWORD
\getenv app_password AUDIT_DB_APP_PASSWORD
\if :{?owner_password}
\else
  \warn 'AUDIT_DB_OWNER_PASSWORD is not set'
  \quit 3
\endif
\if :{?app_password}
\else
  \warn 'AUDIT_DB_APP_PASSWORD is not set'
  \quit 3
\endif

SELECT 'CREATE ROLE vaultline_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vaultline_owner') \gexec
ALTER ROLE vaultline_owner WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'owner_password';
SELECT 'CREATE ROLE vaultline_app' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vaultline_app') \gexec
ALTER ROLE vaultline_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'app_password';

SELECT 'CREATE DATABASE vaultline OWNER vaultline_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'vaultline') \gexec
REVOKE ALL ON DATABASE vaultline FROM PUBLIC;
GRANT CONNECT ON DATABASE vaultline TO vaultline_owner, vaultline_app;

\connect vaultline
-- The trail lives in the owner's schema "public"; nobody else may create objects there (PostgreSQL
-- 15+ already has it so; older servers let PUBLIC create in it).
ALTER SCHEMA public OWNER TO vaultline_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
