"""A weather and booking assistant: two tools and a structured answer."""

from .assistant import TripAdvice, aplan_trip, book_table, get_weather, plan_trip

__all__ = ["TripAdvice", "aplan_trip", "book_table", "get_weather", "plan_trip"]
