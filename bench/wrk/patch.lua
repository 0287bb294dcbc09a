-- The v2 update: PATCH /v2/customers/{id} over the sampled customers (a bearer token), each a
-- JSON Patch document doing what the v1 PUT mix does to the customer's own fields and first
-- email (put.lua): replace firstName and organization (with a value other than the current one)
-- and replace the first email's value by its id with an address unique to this run and visit.
-- Every answer must be 204.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")

local customers, headers, tag
local names, orgs
local i = 0
unexpected = 0

function setup(thread)
  bench.setup(thread)
end

function init(args)
  local data = bench.load(args[1])
  customers = bench.slice(data.customers, tid, tonumber(args[2]))
  names, orgs = data.names, data.orgs
  headers = { Authorization = args[3], ["Content-Type"] = "application/json" }
  tag = args[5]
  i = tid * 7 % #customers
end

function request()
  i = i % #customers + 1
  local c = customers[i]
  c.visits = c.visits + 1
  c.first = bench.other(names, c.first, c.visits + i)
  c.org = bench.other(orgs, c.org, c.visits + i)
  c.email = bench.new_email(c.email, "p", tag, c.visits, tid)
  local body = string.format(
    '[{"op":"replace","path":"/firstName","value":%s},'
      .. '{"op":"replace","path":"/organization","value":%s},'
      .. '{"op":"replace","path":"/emails/%d/value","value":%s}]',
    bench.quote(c.first), bench.quote(c.org), c.email_id, bench.quote(c.email)
  )
  return wrk.format("PATCH", "/v2/customers/" .. c.id, headers, body)
end

function response(status, _headers, _body)
  if status ~= 204 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, _requests)
  bench.done(summary, latency, { "unexpected" })
end
