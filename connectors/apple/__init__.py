"""Apple: App Store customer reviews (public RSS feed, App Store Connect API) and TestFlight feedback.

Three connectors, one vendor:
- app_store_rss (AppStoreRssConnector): the public customer-reviews RSS JSON feed per country,
  no credentials; base_url defaults to https://itunes.apple.com (connectors/apple/rss.py).
- app_store_connect (AppStoreConnectReviewsConnector): GET /v1/apps/{id}/customerReviews with
  an ES256 JWT; base_url defaults to https://api.appstoreconnect.apple.com.
- testflight (TestFlightConnector): GET /v1/apps/{id}/betaFeedbackScreenshotSubmissions and
  .../betaFeedbackCrashSubmissions with the same JWT (connectors/apple/connect.py).
All three lists are newest first and not filterable by date: connectors/apple/paging.py stops
paging at the committed cursor. Ratings keep Apple's 1-5 stars as rating_raw, scale "1-5".
"""
