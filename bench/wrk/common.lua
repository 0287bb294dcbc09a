-- What the wrk scripts of bench/run.py share: reading the data file of sampled customers,
-- each thread's own slice of it, and the result line that done() prints.
--
-- Script arguments (after `--` on the wrk command line):
--   1: the data file written by bench/run.py   2: the number of wrk threads
--   3: the Authorization header                4: a text every 2xx body must hold ("" for none)
--   5: a tag that makes this run's new values unique (put.lua)   6: the share of reloads
local M = {}

M.threads = {}

local function split(text, sep)
  local parts = {}
  for part in (text .. sep):gmatch("(.-)" .. sep) do
    parts[#parts + 1] = part
  end
  return parts
end

-- The data file: a line "names<TAB>...", a line "orgs<TAB>...", a line "labels<TAB>...", then
-- one line per customer: id, email id, email, phone, phone label, first name, organization,
-- chat ids (comma-separated), list query string, search query string.
function M.load(path)
  local data = { customers = {} }
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    local fields = split(line, "\t")
    local kind = table.remove(fields, 1)
    if kind == "c" then
      local chats = {}
      for id in fields[8]:gmatch("%d+") do
        chats[#chats + 1] = tonumber(id)
      end
      data.customers[#data.customers + 1] = {
        id = tonumber(fields[1]),
        email_id = tonumber(fields[2]),
        email = fields[3],
        phone = fields[4],
        phone_label = fields[5],
        first = fields[6],
        org = fields[7],
        chats = chats,
        list = fields[9],
        search = fields[10],
        visits = 0,
      }
    else
      data[kind] = fields
    end
  end
  file:close()
  return data
end

-- Customer k goes to thread k mod threads: no two threads ever touch the same customer, and
-- a thread visits its customers in turn, so one customer never has two requests in flight.
function M.slice(customers, tid, threads)
  local mine = {}
  for k, customer in ipairs(customers) do
    if (k - 1) % threads == tid then
      mine[#mine + 1] = customer
    end
  end
  assert(#mine > 0, "no customers for thread " .. tid)
  return mine
end

function M.setup(thread)
  thread:set("tid", #M.threads)
  M.threads[#M.threads + 1] = thread
end

-- A value of `list` other than `current`, turning with `n`.
function M.other(list, current, n)
  local pick = list[n % #list + 1]
  if pick == current then
    pick = list[(n + 1) % #list + 1]
  end
  return pick
end

-- A new address for a customer's email, unique to this run (`tag`), visit and thread (`tid`):
-- `mark` ("b" for the PUT mix, "p" for the v2 PATCH) replaces what an earlier visit added.
function M.new_email(current, mark, tag, visit, tid)
  local localpart, domain = current:match("^(.*)@(.*)$")
  localpart = localpart:gsub("%-[bcp]%w+$", "")
  return string.format("%s-%s%s%dt%d@%s", localpart, mark, tag, visit, tid, domain)
end

-- A JSON string literal (the values sent are ASCII, but quote what needs it anyway).
function M.quote(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- One line for bench/run.py: wrk's own figures and the scripts' counters, summed over threads.
function M.done(summary, latency, counters)
  local totals = {}
  for _, name in ipairs(counters) do
    totals[name] = 0
    for _, thread in ipairs(M.threads) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"connect_errors":%d', summary.errors.connect),
    string.format('"read_errors":%d', summary.errors.read),
    string.format('"write_errors":%d', summary.errors.write),
    string.format('"status_errors":%d', summary.errors.status),
    string.format('"timeouts":%d', summary.errors.timeout),
    string.format('"p50_us":%d', latency:percentile(50)),
    string.format('"p90_us":%d', latency:percentile(90)),
    string.format('"p99_us":%d', latency:percentile(99)),
    string.format('"max_us":%d', latency.max),
    string.format('"mean_us":%.1f', latency.mean),
  }
  for name, total in pairs(totals) do
    parts[#parts + 1] = string.format('"%s":%d', name, total)
  end
  io.write("BENCH-RESULT {" .. table.concat(parts, ",") .. "}\n")
end

return M
