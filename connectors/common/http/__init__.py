"""The shared HTTP client every connector uses: auth, retries, rate limits, pagination, masking."""
