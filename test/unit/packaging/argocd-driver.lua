-- Runs an Argo CD health script the way Argo CD does: the live object in the global `obj`, the
-- script's return value taken as the health. A health check from resource.customizations runs
-- without the standard libraries unless useOpenLibs is set: Argo CD opens only the base functions,
-- table and a safe os (time, date). The script gets exactly those here, and string methods are
-- switched off, so a script that uses string, math, io or require fails as it would in Argo CD.
-- usage: lua5.1 argocd-driver.lua <object.lua (returns the object table)> <health.lua>
local object = dofile(arg[1])
local script = assert(loadfile(arg[2]))
local sandbox = {
  obj = object,
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
  select = select, tonumber = tonumber, tostring = tostring, type = type, unpack = unpack,
  table = table, os = { time = os.time, date = os.date },
}
setfenv(script, sandbox)
local stringMethods = getmetatable("").__index
getmetatable("").__index = {}
local hs = script()
getmetatable("").__index = stringMethods
if type(hs) ~= "table" then
  error("health script returned " .. type(hs) .. ", not a table")
end
io.write(tostring(hs.status), "\n", tostring(hs.message), "\n")
