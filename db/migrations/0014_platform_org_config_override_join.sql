-- The same view, the same precedence (the newest live override wins), with the live overrides as a
-- DISTINCT ON join instead of a LATERAL subquery: a lookup by org_id still pushes the id down into it, and
-- a question over every organisation (the over-quota filter of /orgs) can hash-join it instead of running
-- the subquery once per organisation.
CREATE OR REPLACE VIEW platform_org_config AS
SELECT
  o.id AS org_id,
  o.slug,
  o.plan_tier,
  o.status,
  o.suspended_reason,
  coalesce(m.required, t.mfa_required) AS mfa_required,
  coalesce(m.allowed_methods, t.mfa_allowed_methods) AS mfa_allowed_methods,
  CASE WHEN m.org_id IS NULL THEN 'tier' ELSE 'org' END AS mfa_source,
  coalesce(ov.requests_per_minute, r.requests_per_minute, t.requests_per_minute) AS requests_per_minute,
  CASE WHEN ov.requests_per_minute IS NOT NULL THEN 'override' WHEN r.requests_per_minute IS NOT NULL THEN 'org' ELSE 'tier' END AS requests_per_minute_source,
  coalesce(ov.tokens_per_minute, r.tokens_per_minute, t.tokens_per_minute) AS tokens_per_minute,
  CASE WHEN ov.tokens_per_minute IS NOT NULL THEN 'override' WHEN r.tokens_per_minute IS NOT NULL THEN 'org' ELSE 'tier' END AS tokens_per_minute_source,
  coalesce(ov.concurrent_requests, r.concurrent_requests, t.concurrent_requests) AS concurrent_requests,
  CASE WHEN ov.concurrent_requests IS NOT NULL THEN 'override' WHEN r.concurrent_requests IS NOT NULL THEN 'org' ELSE 'tier' END AS concurrent_requests_source,
  coalesce(ov.monthly_request_quota, r.monthly_request_quota, t.monthly_request_quota) AS monthly_request_quota,
  CASE WHEN ov.monthly_request_quota IS NOT NULL THEN 'override' WHEN r.monthly_request_quota IS NOT NULL THEN 'org' ELSE 'tier' END AS monthly_request_quota_source,
  ov.id AS override_id,
  ov.expires_at AS override_expires_at,
  coalesce(
    (SELECT jsonb_agg(jsonb_build_object('outpost_id', op.id, 'name', op.name, 'inference_mode', op.inference_mode) ORDER BY op.name)
       FROM outposts op WHERE op.org_id = o.id),
    '[]'::jsonb
  ) AS outposts
FROM organizations o
JOIN plan_tiers t ON t.key = o.plan_tier
LEFT JOIN org_mfa_policy m ON m.org_id = o.id
LEFT JOIN rate_limits r ON r.org_id = o.id
LEFT JOIN (
  SELECT DISTINCT ON (x.org_id) x.* FROM rate_limit_overrides x
  WHERE x.revoked_at IS NULL AND x.starts_at <= now() AND x.expires_at > now()
  ORDER BY x.org_id, x.created_at DESC
) ov ON ov.org_id = o.id;
