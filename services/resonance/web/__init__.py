"""`resonance web`: the community dashboard and the SaaS API (FastAPI, server-rendered pages).

Every request's JWT is verified here, then the database decides: queries run as `authenticated`
with the verified claims in `request.jwt.claims`, so row security isolates tenants (docs/web.md).
"""
