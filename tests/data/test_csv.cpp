#include "data/data_test_util.hpp"
#include "test_util.hpp"

using namespace neurona;
using namespace neurona::data;
using neurona::testing::expect_values;
using neurona::testing::write_file;

TEST(Csv, ReadsTheWineDataWithSemicolonsAndQuotedHeader) {
  CsvOptions opt;
  opt.target = {"quality"};
  auto d = read_csv(std::string(NEURONA_SOURCE_DIR) + "/data/winequality-red.csv", opt);
  EXPECT_EQ(d.x.shape(), (Shape{1599, 11}));
  EXPECT_EQ(d.y.shape(), (Shape{1599, 1}));
  EXPECT_EQ(d.schema.delimiter, ';');
  EXPECT_EQ(d.feature_names.front(), "fixed acidity");
  EXPECT_EQ(d.feature_names.back(), "alcohol");
  // First row: 7.4;0.7;0;1.9;0.076;11;34;0.9978;3.51;0.56;9.4;5
  expect_values(d.x.slice(0, 1), {7.4f, 0.7f, 0, 1.9f, 0.076f, 11, 34, 0.9978f, 3.51f, 0.56f, 9.4f});
  EXPECT_FLOAT_EQ(d.y.data()[0], 5.f);
  EXPECT_EQ(d.lines[0], 2);
}

TEST(Csv, DetectsCommaAndTabAndHandlesQuotes) {
  auto d =
      parse_csv("a,b,label\n1,\"2,5\",x\n3,\"say \"\"hi\"\"\",y\n", "q.csv",
                {.target = {"label"}, .categorical = {"b", "label"}, .feature_encoding = Encoding::Index});
  EXPECT_EQ(d.schema.delimiter, ',');
  EXPECT_EQ(d.schema.features[1].categories, (std::vector<std::string>{"2,5", "say \"hi\""}));
  expect_values(d.x, {1, 0, 3, 1});
  expect_values(d.y, {0, 1});
  auto t = parse_csv("a\tb\n1\t2\n", "t.tsv");
  EXPECT_EQ(t.schema.delimiter, '\t');
  expect_values(t.x, {1, 2});
}

TEST(Csv, FeaturesByNameAndOneHotWithVocabularyReuse) {
  const std::string text = "color,size,price\nred,1,10\nblue,2,20\nred,3,30\n";
  CsvOptions opt{.target = {"price"}, .features = {"color", "size"}, .categorical = {"color"}};
  auto d = parse_csv(text, "shop.csv", opt);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"color=red", "color=blue", "size"}));
  expect_values(d.x, {1, 0, 1, 0, 1, 2, 1, 0, 3});
  // Prediction data without the target, categories in another order: same encoding.
  CsvOptions pred{.schema = &d.schema};
  auto p = parse_csv("size,color\n5,blue\n", "new.csv", pred);
  EXPECT_FALSE(p.y.defined());
  expect_values(p.x, {0, 1, 5});
  EXPECT_ERROR_CONTAINS(parse_csv("size,color\n5,green\n", "new.csv", pred), "category 'green'");
}

TEST(Csv, MissingValuesDropOrFillMean) {
  const std::string text = "a,b\n1,10\n,20\n3,\n";
  EXPECT_ERROR_CONTAINS(parse_csv(text, "m.csv"), "m.csv, line 3, column 1 ('a'): missing value");
  // Config users are told the key they can write, C++ users the option.
  EXPECT_ERROR_CONTAINS(parse_csv(text, "m.csv"),
                        "set `data.missing: drop|mean` in the config (CsvOptions::missing in C++)");
  auto dropped = parse_csv(text, "m.csv", {.missing = Missing::DropRow});
  expect_values(dropped.x, {1, 10});
  EXPECT_EQ(dropped.lines, (std::vector<int64_t>{2}));
  auto filled = parse_csv(text, "m.csv", {.missing = Missing::FillMean});
  expect_values(filled.x, {1, 10, 2, 20, 3, 15});
  EXPECT_FLOAT_EQ(filled.schema.features[1].fill, 15.f);
}

// --- one test per bad input ------------------------------------------------------------------------

TEST(CsvErrors, RaggedRow) {
  const auto path = write_file("ragged.csv", "a;b;c\n1;2;3\n4;5\n");
  EXPECT_ERROR_CONTAINS(read_csv(path),
                        "ragged.csv, line 3: ragged row: 2 fields, but the header (line 1) has 3");
}

TEST(CsvErrors, NonNumericCell) {
  const auto path = write_file("nonnumeric.csv", "x,y,z\n1,2,3\n4,five,6\n");
  EXPECT_ERROR_CONTAINS(read_csv(path),
                        "nonnumeric.csv, line 3, column 2 ('y'): cannot read 'five' as a number");
}

TEST(CsvErrors, EmptyFile) {
  const auto path = write_file("empty.csv", "\n  \n");
  EXPECT_ERROR_CONTAINS(read_csv(path), "empty.csv: empty file");
  EXPECT_ERROR_CONTAINS(read_csv(write_file("header_only.csv", "a,b\n")), "no data rows after the header");
}

TEST(CsvErrors, OnlyBlankRecordsIsAnErrorNotACrash) {
  // An empty quoted field alone on its line is a blank record: no header at all (found by fuzzing:
  // this read past the end of the records).
  EXPECT_ERROR_CONTAINS(parse_csv("\"\"\n", "blank.csv", {.delimiter = ';'}),
                        "blank.csv: no header line (every line is blank)");
}

TEST(CsvErrors, TextThatIsNotUtf8NamesItsLineAndColumn) {
  // "año" in Latin-1: names and categories must go into the weights file's JSON header later.
  EXPECT_ERROR_CONTAINS(parse_csv("x,y\n1,a\xf1o\n", "latin1.csv"),
                        "latin1.csv, line 2, column 4 (byte 0xF1): not UTF-8 text");
  EXPECT_NO_THROW(parse_csv("x,a\xc3\xb1o\n1,2\n", "utf8.csv"));
}

TEST(CsvErrors, MissingTargetColumnSuggestsTheNearest) {
  const auto path = write_file("target.csv", "alcohol;quality\n9.4;5\n");
  EXPECT_ERROR_CONTAINS(read_csv(path, {.target = {"qualty"}}),
                        "target.csv, line 1: no target column 'qualty'; did you mean 'quality'?");
}

TEST(CsvErrors, UnknownDelimiter) {
  const auto path = write_file("pipes.csv", "a|b|c\n1|2|3\n");
  EXPECT_ERROR_CONTAINS(read_csv(path), "pipes.csv, line 1: cannot detect the delimiter");
}

TEST(CsvErrors, UnclosedQuoteAndMissingFile) {
  EXPECT_ERROR_CONTAINS(parse_csv("a,b\n1,\"open\n", "q.csv"), "q.csv, line 2: quoted field never closed");
  EXPECT_ERROR_CONTAINS(read_csv("/nonexistent/file.csv"), "/nonexistent/file.csv: cannot open");
}
