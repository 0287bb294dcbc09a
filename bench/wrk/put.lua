-- The update mix: PUT /v1/customers/{id}.json over the sampled customers, each request shaped
-- like Help Scout's own update example and doing all of:
--   * change firstName and organization (to a value other than the current one),
--   * update the customer's first email by id (a new address, unique to this run and visit),
--   * add a phone whose value the customer already has, with another location: by the v1
--     rules that updates the entry, so the store does not grow (spec §10.3),
--   * remove a chat by negative id and add a new one: the store keeps its size,
--   * `?reload=true` on one in ten (the answer is then 201 with the customer).
-- A chat id is removed once only: each thread owns its customers (common.lua), and a chat it
-- added has an id the script learns only from a reload answer. So when a customer is down to
-- its last known chat, that visit asks for a reload too; the share of reloads then rises above
-- one in ten, and bench/run.py reports it.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local bench = dofile(here .. "common.lua")

local customers, by_id, headers, tag, share, plain
local names, orgs, labels
local i = 0
puts = 0
reloads = 0
chatless = 0
unexpected = 0

function setup(thread)
  bench.setup(thread)
end

function init(args)
  local data = bench.load(args[1])
  customers = bench.slice(data.customers, tid, tonumber(args[2]))
  names, orgs, labels = data.names, data.orgs, data.labels
  by_id = {}
  for _, customer in ipairs(customers) do
    by_id[customer.id] = customer
  end
  headers = { Authorization = args[3], ["Content-Type"] = "application/json" }
  tag = args[5]
  share = tonumber(args[6])
  -- "plain" (bench/peers.py): PUT /customers/{id} to a generic fake REST server, which stores
  -- the body as the customer; chat ids then mean nothing and are not used up.
  plain = args[7] == "plain"
  i = tid * 7 % #customers
end

function request()
  i = i % #customers + 1
  local c = customers[i]
  c.visits = c.visits + 1
  puts = puts + 1
  c.first = bench.other(names, c.first, c.visits + i)
  c.org = bench.other(orgs, c.org, c.visits + i)
  c.phone_label = bench.other(labels, c.phone_label, c.visits)
  c.email = bench.new_email(c.email, "b", tag, c.visits, tid)
  local reload = #c.chats == 1 or reloads < math.floor(puts * share)
  local chats = ""
  if #c.chats > 0 then
    local gone = plain and c.chats[1] or table.remove(c.chats, 1)
    chats = string.format(
      ',"chats":[{"id":-%d},{"value":"bench-%s%dt%d","type":"skype"}]', gone, tag, c.visits, tid
    )
  else
    chatless = chatless + 1
  end
  if reload then
    reloads = reloads + 1
  end
  local body = string.format(
    '{"firstName":%s,"organization":%s,"emails":[{"id":%d,"value":%s}],'
      .. '"phones":[{"value":%s,"location":"%s"}]%s}',
    bench.quote(c.first), bench.quote(c.org), c.email_id, bench.quote(c.email),
    bench.quote(c.phone), c.phone_label, chats
  )
  local path = "/v1/customers/" .. c.id .. ".json" .. (reload and "?reload=true" or "")
  if plain then
    path = "/customers/" .. c.id .. (reload and "?reload=true" or "")
  end
  return wrk.format("PUT", path, headers, body)
end

-- A reload answer lists the customer's chats: learn their ids (the new one among them).
function response(status, _headers, body)
  if status == 201 then
    local id = tonumber(body:match('^{"item":{"id":(%d+)'))
    local customer = id and by_id[id]
    if not customer then
      unexpected = unexpected + 1
      return
    end
    local chats = {}
    local list = body:match('"chats":%[(.-)%]')
    if list then
      for chat in list:gmatch('"id":(%d+)') do
        chats[#chats + 1] = tonumber(chat)
      end
    end
    customer.chats = chats
  elseif status ~= 200 then
    return -- wrk counts it among the non-2xx answers
  end
end

function done(summary, latency, _requests)
  bench.done(summary, latency, { "puts", "reloads", "chatless", "unexpected" })
end
