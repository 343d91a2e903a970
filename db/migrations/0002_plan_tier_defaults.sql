-- The five canonical tiers (ADR-012) always exist; staff edit their defaults in /plans.
INSERT INTO plan_tiers (key, label, description, monthly_request_quota, requests_per_minute, tokens_per_minute, concurrent_requests, mfa_required, mfa_allowed_methods) VALUES
  ('devfree_saas', 'Developer Free', 'Free developer tier: 100k requests a month.', 100000, 60, 40000, 5, false, '{fido2,totp,sms}'),
  ('devpro_saas', 'Developer Pro (Early Access)', 'Paid developer tier: 1M requests a month. Early Access until GA.', 1000000, 300, 200000, 20, false, '{fido2,totp,sms}'),
  ('team_saas', 'Team', 'Team tier on the Arbitex SaaS.', 10000000, 1000, 1000000, 50, true, '{fido2,totp,sms}'),
  ('enterprise_saas', 'Enterprise SaaS', 'Enterprise on the Arbitex SaaS, with enterprise entitlements.', 100000000, 5000, 5000000, 200, true, '{fido2,totp}'),
  ('enterprise_outpost', 'Enterprise Outpost', 'Enterprise with a customer-hosted Hybrid Outpost data plane.', 100000000, 5000, 5000000, 200, true, '{fido2,totp}')
ON CONFLICT (key) DO NOTHING;
