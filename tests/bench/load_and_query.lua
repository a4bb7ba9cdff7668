-- Benchmark body: load the dataset, then every user's 20 newest distinct
-- items and top genres, and 20 recommendations for each. Prints a checksum
-- so the peer's answer can be compared.
local dataset = require "mlpz.dataset"
local ds = assert(dataset.open())
local model = require("mlpz.recommender").new(ds)
local rows, genres, recs = 0, 0, 0
for _, user in ipairs(ds:user_ids()) do
  rows = rows + #ds:history(user, { limit = 20, unique = true })
  genres = genres + #ds:top_genres(user)
  recs = recs + #assert(model:recommend(user, 20))
end
print(string.format("users=%d history_rows=%d genres=%d recs=%d", #ds:user_ids(), rows, genres, recs))
