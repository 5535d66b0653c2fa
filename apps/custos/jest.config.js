module.exports = { ...require('../../jest.preset.js'), displayName: 'custos', rootDir: __dirname };
