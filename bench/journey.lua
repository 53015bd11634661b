-- For bench/throughput.sh: readers going through the site, each request a path drawn at random from the
-- list in the file named by BENCH_JOURNEY_PATHS (one path a line; a path listed twice is drawn twice as
-- often).

local paths = {}
for line in io.lines(os.getenv("BENCH_JOURNEY_PATHS")) do
  if line ~= "" then paths[#paths + 1] = line end
end

-- Each wrk thread runs its own copy of this script: a seed of its own, so that the threads do not all
-- draw the same sequence of paths.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

-- The same machine-readable line at the end as the single-endpoint runs (wrk runs from the repository root).
dofile("bench/wrk_done.lua")
