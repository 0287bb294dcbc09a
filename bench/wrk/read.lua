-- Reads over the sampled customers, one kind per run (script argument 7):
--   get     GET /v1/customers/{id}.json
--   list    GET /v1/customers.json?email=<an address of the customer>      (page 1)
--   search  GET /v1/search/customers.json?query="<that address>"           (page 1)
--   get_v2  GET /v2/customers/{id}                                         (a bearer token)
-- Every 2xx body must hold the marker (argument 4): `"count":1,` for list and search, so an
-- answer that found nothing counts as unexpected, not as a fast success.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")

local customers, headers, marker, kind
local i = 0
unexpected = 0

function setup(thread)
  bench.setup(thread)
end

function init(args)
  customers = bench.slice(bench.load(args[1]).customers, tid, tonumber(args[2]))
  headers = { Authorization = args[3] }
  marker = args[4]
  kind = args[7] or "get"
  i = tid * 7 % #customers -- threads start at different places of their slices
end

function request()
  i = i % #customers + 1
  local customer = customers[i]
  local path
  if kind == "get" then
    path = "/v1/customers/" .. customer.id .. ".json"
  elseif kind == "get_v2" then
    path = "/v2/customers/" .. customer.id
  elseif kind == "list" then
    path = "/v1/customers.json?" .. customer.list
  else
    path = "/v1/search/customers.json?" .. customer.search
  end
  return wrk.format("GET", path, headers)
end

function response(status, _headers, body)
  if status >= 200 and status < 300 and marker ~= "" and not body:find(marker, 1, true) then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, _requests)
  bench.done(summary, latency, { "unexpected" })
end
