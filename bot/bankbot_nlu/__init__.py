"""Custom Rasa 3.6 components of the bank bot: MiniLMFeaturizer (minilm.py) and BankIntentClassifier
(classifier.py). See docs/nlu.md."""
